/* Warmline web chat: the launcher, the panel, the conversation and its live updates.
   Plain ES2017 with no dependencies; loaded by widget.js after strings.js.

   The hub's buyer channel: POST /v1/widget/conversations (key + page Origin) gives a buyer
   token; then GET /v1/conversations/{id}, POST .../messages (Idempotency-Key), GET
   /v1/widget/state (handoff, specialist, SKU/source references), POST .../typing and the
   event stream GET /v1/events (read with fetch so it can carry the token and Last-Event-ID).
   Stored in the page's localStorage (see docs/widget.md, privacy): the conversation id,
   the buyer token, the last event id seen, and messages not sent yet. */
(function () {
  "use strict";
  var C = window.WarmlineWidgetConfig;
  if (!C || window.WarmlineWidget) return;
  var S = window.WarmlineStrings || {};
  var T = Object.assign({}, S.en, S[C.lang] || {});
  var HUB = C.hub;
  var STORE = "warmline:" + HUB + ":" + C.key;
  var OPEN_KEY = STORE + ":open";
  /* Rating after resolve (1-5 + optional comment, docs/metrics.md): on resolve the widget
     dispatches "warmline:resolved" on window (detail {conversationId}) and showRating() asks
     the one question, sent to RATING_ROUTE ({id}: the conversation) with the buyer token. */
  var RATING_ROUTE = "/v1/conversations/{id}/rating";

  function t(key, vars) {
    return String(T[key] == null ? key : T[key]).replace(/\{(\w+)\}/g, function (_, k) {
      return vars && vars[k] != null ? String(vars[k]) : "";
    });
  }

  // --- stored state (shared by this site's tabs) ------------------------------------
  function load() {
    try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
  }
  var st = load();
  function mutate(fn) { /* read-modify-write, so two tabs do not overwrite each other */
    var cur = load();
    fn(cur);
    st = cur;
    try { localStorage.setItem(STORE, JSON.stringify(cur)); } catch (e) { /* private mode */ }
  }
  function queue() { return load().queue || []; }

  // --- DOM ---------------------------------------------------------------------------
  function el(tag, attrs, kids) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] != null && attrs[k] !== false) node.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    });
    (kids || []).forEach(function (kid) { if (kid) node.appendChild(kid); });
    return node;
  }

  var host = el("div", { id: "warmline-widget" });
  var shadow = host.attachShadow({ mode: "open" });
  var css = el("link", { rel: "stylesheet", href: C.css });
  var badge = el("span", { "class": "wl-badge", hidden: true });
  var launcher = el("button", {
    "class": "wl-launcher", type: "button", "aria-expanded": "false", "aria-controls": "wl-panel",
    "aria-label": t("launcherOpen"), title: t("launcherOpen")
  }, [el("span", { "class": "wl-launcher-icon", "aria-hidden": "true" }), badge]);
  var statusLine = el("p", { "class": "wl-status", role: "status" });
  var closeBtn = el("button", { "class": "wl-close", type: "button", "aria-label": t("launcherClose"), text: "×" });
  var banner = el("div", { "class": "wl-banner", hidden: true });
  var log = el("ol", { "class": "wl-log", role: "log", "aria-live": "polite", "aria-label": t("logLabel") });
  var typingLine = el("p", { "class": "wl-typing", "aria-live": "polite" });
  var input = el("textarea", {
    id: "wl-input", "class": "wl-input", rows: "2", maxlength: "8000", placeholder: t("placeholder"),
    "aria-label": t("inputLabel")
  });
  var sendBtn = el("button", { "class": "wl-send", type: "submit", text: t("send") });
  var form = el("form", { "class": "wl-form" }, [
    el("label", { "class": "wl-sr", "for": "wl-input", text: t("inputLabel") }), input, sendBtn
  ]);
  var announcer = el("div", { "class": "wl-sr", "aria-live": "assertive" });
  var panel = el("section", {
    id: "wl-panel", "class": "wl-panel", role: "dialog", "aria-label": C.title || t("title"), hidden: true
  }, [
    el("header", { "class": "wl-header" }, [
      el("div", {}, [el("h2", { text: C.title || t("title") }), el("p", { "class": "wl-sub", text: t("subtitle") })]),
      closeBtn
    ]),
    statusLine, banner, log, typingLine, form,
    el("p", { "class": "wl-hint", text: t("hint") }), announcer
  ]);
  var root = el("div", { "class": "wl-root wl-loading" }, [panel, launcher]);
  shadow.appendChild(css);
  shadow.appendChild(root);

  function announce(text) { announcer.textContent = ""; setTimeout(function () { announcer.textContent = text; }, 50); }

  // --- connection state ----------------------------------------------------------
  var conn = "idle"; /* idle | connecting | live | reconnecting | offline | refused */
  var refusal = "";
  function setConn(next, text) {
    conn = next;
    root.setAttribute("data-state", next);
    if (next === "refused") refusal = text;
    var shown = next === "connecting" ? t("connecting") : next === "reconnecting" ? t("reconnecting")
      : next === "offline" ? t("offline") : next === "refused" ? text : "";
    statusLine.textContent = shown;
    input.disabled = sendBtn.disabled = next === "refused";
  }

  // --- messages ----------------------------------------------------------------------
  var byId = {};
  var refs = {};
  var unread = 0;
  var handoff = null;
  var greeting = el("li", { "class": "wl-msg wl-ai wl-greeting" }, [
    el("div", { "class": "wl-meta", text: t("ai") }), el("div", { "class": "wl-body", text: t("greeting") })
  ]);
  log.appendChild(greeting);

  function authorName(m) {
    if (m.author_kind === "buyer") return t("you");
    if (m.author_kind === "system") return m.author_name || t("system");
    if (m.author_kind === "ai") return m.author_name || t("ai");
    return m.author_name || "";
  }

  function addMessage(m) {
    if (!m || m.internal || byId[m.id]) return; /* internal notes never shown; no duplicates */
    if (m.author_kind === "buyer") adoptPending(m);
    var li = el("li", {
      "class": "wl-msg wl-" + m.author_kind, "data-id": m.id, "data-seq": String(m.seq)
    }, [el("div", { "class": "wl-meta", text: authorName(m) }), el("div", { "class": "wl-body", text: m.body })]);
    byId[m.id] = li;
    var after = null;
    Array.prototype.some.call(log.children, function (other) {
      var seq = other.getAttribute("data-seq");
      if ((seq && Number(seq) > m.seq) || other.classList.contains("wl-pending")) { after = other; return true; }
      return false;
    });
    log.insertBefore(li, after);
    applyRefs(m.id);
    if (m.author_kind !== "buyer") {
      typing.stop(m.author_kind === "ai" ? "ai" : m.author_name);
      if (panel.hidden) { unread += 1; badge.hidden = false; badge.textContent = String(unread); }
      announce(t("announceReply", { name: authorName(m) }));
      refreshState();
    }
    scrollDown();
  }

  var stick = true; /* follow the newest message unless the buyer scrolled up */
  var dims = "";
  function scrollDown() {
    if (stick) log.scrollTop = log.scrollHeight;
    dims = log.scrollHeight + "x" + log.clientHeight;
  }
  log.addEventListener("scroll", function () {
    var now = log.scrollHeight + "x" + log.clientHeight;
    if (now !== dims) { dims = now; return; } /* the layout changed; the buyer did not scroll */
    stick = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  });
  if (window.ResizeObserver) new ResizeObserver(function () { scrollDown(); }).observe(log);

  function applyRefs(id) {
    var li = byId[id], r = refs[id];
    if (!li || !r || li.getAttribute("data-refs")) return;
    li.setAttribute("data-refs", "1");
    if (r.skus && r.skus.length) {
      li.appendChild(el("ul", { "class": "wl-chips", "aria-label": t("skus") }, r.skus.map(function (p) {
        var label = p.sku;
        var chip = C.skuUrl
          ? el("a", { "class": "wl-chip", href: C.skuUrl.replace("{sku}", encodeURIComponent(p.sku)), target: "_blank",
              rel: "noopener", title: p.name || p.sku, text: label })
          : el("span", { "class": "wl-chip", title: p.name || p.sku, text: label });
        return el("li", {}, [chip]);
      })));
    }
    if (r.sources && r.sources.length) {
      li.appendChild(el("div", { "class": "wl-sources" }, [
        el("span", { text: t("sources") + ": " })
      ].concat(r.sources.map(function (d) {
        var label = t("openDocument", { title: d.title });
        return d.url
          ? el("a", { "class": "wl-source", href: d.url, target: "_blank", rel: "noopener", "aria-label": label, text: d.title })
          : el("a", { "class": "wl-source", href: "#", "aria-label": label, text: d.title,
              onclick: function (e) { e.preventDefault(); openDocument(d, e.currentTarget); } });
      }))));
    }
  }

  // --- a cited document, read inside the panel ----------------------------------------
  var docTitle = el("h3", { "class": "wl-doc-title" });
  var docText = el("div", { "class": "wl-doc-text", tabindex: "0" });
  var docBack = el("button", { type: "button", "class": "wl-doc-back", text: t("back") });
  var docView = el("div", { "class": "wl-doc", role: "region", "aria-label": t("document"), hidden: true },
    [el("div", { "class": "wl-doc-head" }, [docBack, docTitle]), docText]);
  var docOpener = null;
  function openDocument(d, opener) {
    docOpener = opener;
    docTitle.textContent = d.title;
    docText.textContent = t("loading");
    docView.hidden = false;
    docBack.focus();
    api("GET", "/v1/widget/documents?sku=" + encodeURIComponent(d.sku) + "&title=" + encodeURIComponent(d.title))
      .then(function (doc) { docText.textContent = doc.text; }, function (err) { docText.textContent = err.message; });
  }
  function closeDocument() {
    docView.hidden = true;
    if (docOpener) docOpener.focus();
  }
  docBack.addEventListener("click", closeDocument);
  panel.appendChild(docView);

  // --- pending (typed, not yet confirmed) messages -----------------------------------
  var pendingEls = {};
  function renderPending(item) {
    var li = pendingEls[item.key];
    if (!li) {
      li = el("li", { "class": "wl-msg wl-buyer wl-pending", "data-key": item.key }, [
        el("div", { "class": "wl-meta", text: t("you") }), el("div", { "class": "wl-body", text: item.body }),
        el("div", { "class": "wl-note" })
      ]);
      pendingEls[item.key] = li;
      log.appendChild(li);
      scrollDown();
    }
    var note = li.querySelector(".wl-note");
    note.textContent = "";
    if (item.failed) {
      note.appendChild(document.createTextNode(t("failed", { reason: item.failed }) + " "));
      note.appendChild(el("button", { type: "button", "class": "wl-retry", text: t("retry"), onclick: function () {
        mutate(function (s) { (s.queue || []).forEach(function (q) { if (q.key === item.key) delete q.failed; }); });
        item.failed = null; renderPending(item); flush();
      } }));
    } else {
      note.textContent = conn === "offline" || conn === "refused" || !navigator.onLine ? t("queued") : t("sending");
    }
  }
  function dropPending(key) {
    var li = pendingEls[key];
    if (li) { li.remove(); delete pendingEls[key]; }
  }
  function adoptPending(m) { /* the stream brought my message before the POST answered */
    Object.keys(pendingEls).some(function (key) {
      var li = pendingEls[key];
      if (li.getAttribute("data-inflight") && li.querySelector(".wl-body").textContent === m.body) {
        dropPending(key);
        return true;
      }
      return false;
    });
  }
  function refreshPendingNotes() {
    queue().forEach(function (item) { if (pendingEls[item.key]) renderPending(item); });
  }

  // --- talking to the hub --------------------------------------------------------------
  function api(method, path, body, headers) {
    var h = Object.assign({}, headers || {});
    if (st.token) h.Authorization = "Bearer " + st.token;
    if (body !== undefined) h["Content-Type"] = "application/json";
    return fetch(HUB + path, {
      method: method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store"
    }).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (res.ok) return data;
        var detail = data && data.detail;
        var err = new Error(detail && detail.message ? detail.message
          : Array.isArray(detail) && detail[0] ? detail[0].msg : "HTTP " + res.status);
        err.status = res.status;
        err.code = detail && detail.code;
        err.retryAfter = Number(res.headers.get("Retry-After") || 0);
        throw err;
      });
    });
  }
  function transient(err) { /* no connection, timeouts, 408, 429, 5xx: try again later */
    return !err.status || err.status === 408 || err.status === 429 || err.status >= 500;
  }

  function sessionGone() {
    mutate(function (s) { delete s.cid; delete s.token; delete s.lastEventId; });
    stopStream();
    note(t("sessionGone"));
  }
  function note(text) { log.appendChild(el("li", { "class": "wl-msg wl-system wl-local", text: text })); scrollDown(); }

  function refuse(err) {
    var text = err.status === 429 ? t("rateLimited", { seconds: err.retryAfter || 60 })
      : err.code === "origin_not_allowed" || err.code === "origin_required" ? t("refusedOrigin", { reason: err.message })
      : err.code === "unknown_widget_key" ? t("refusedKey")
      : t("refusedGeneric", { reason: err.message });
    setConn("refused", text);
    refreshPendingNotes();
    if (err.status === 429) {
      setTimeout(function () { if (conn === "refused") { setConn("idle"); flush(); } }, (err.retryAfter || 60) * 1000);
    }
  }

  var creating = null;
  function ensureConversation() {
    if (st.token) return Promise.resolve();
    if (creating) return creating;
    creating = api("POST", "/v1/widget/conversations", { key: C.key, page: String(location.href).slice(0, 500) })
      .then(function (made) {
        mutate(function (s) { s.cid = made.conversation_id; s.token = made.buyer_token; s.lastEventId = made.last_event_id; });
        connect();
      })
      .finally(function () { creating = null; });
    return creating;
  }

  var flushing = false, retryTimer = null, retryDelay = 500;
  function flush() {
    if (flushing || conn === "refused") return;
    var items = queue().filter(function (i) { return !i.failed; });
    if (!items.length) return;
    if (!navigator.onLine) { setConn("offline"); refreshPendingNotes(); return; }
    var item = items[0];
    flushing = true;
    ensureConversation().then(function () {
      if (pendingEls[item.key]) pendingEls[item.key].setAttribute("data-inflight", "1");
      return api("POST", "/v1/conversations/" + encodeURIComponent(st.cid) + "/messages", { body: item.body },
        { "Idempotency-Key": item.key });
    }).then(function (message) {
      flushing = false;
      retryDelay = 500;
      mutate(function (s) { s.queue = (s.queue || []).filter(function (q) { return q.key !== item.key; }); });
      dropPending(item.key);
      addMessage(message);
      if (!handoff || handoff.status === "resolved") typing.show("ai", t("aiTyping"), 30000);
      flush();
    }, function (err) {
      flushing = false;
      if (pendingEls[item.key]) pendingEls[item.key].removeAttribute("data-inflight");
      if (err.status === 401 && st.token) { sessionGone(); flush(); return; }
      if (err.code === "origin_not_allowed" || err.code === "origin_required" || err.code === "unknown_widget_key"
          || (err.status === 429 && !st.token)) { refuse(err); return; }
      if (transient(err)) {
        if (!err.status && !navigator.onLine) setConn("offline");
        refreshPendingNotes();
        clearTimeout(retryTimer);
        retryDelay = Math.min(retryDelay * 2, 8000);
        retryTimer = setTimeout(flush, err.retryAfter ? err.retryAfter * 1000 : retryDelay * (0.5 + Math.random()));
        return;
      }
      mutate(function (s) { (s.queue || []).forEach(function (q) { if (q.key === item.key) q.failed = err.message; }); });
      item.failed = err.message;
      renderPending(item);
      flush();
    });
  }

  function submit(text) {
    var body = text.replace(/\s+$/, "");
    if (!body.trim() || conn === "refused") return;
    stick = true;
    var item = { key: "wl-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12), body: body };
    mutate(function (s) { (s.queue = s.queue || []).push(item); });
    renderPending(item);
    flush();
  }

  // --- handoff state, references -------------------------------------------------------
  var stateTimer = null;
  function refreshState() {
    clearTimeout(stateTimer);
    stateTimer = setTimeout(loadState, 120);
  }
  function loadState() {
    if (!st.token) return Promise.resolve();
    return api("GET", "/v1/widget/state").then(function (s) {
      Object.keys(s.refs || {}).forEach(function (id) { refs[id] = s.refs[id]; applyRefs(id); });
      showHandoff(s.handoff);
      return s;
    }, function (err) { if (err.status === 401) sessionGone(); return null; });
  }
  function showHandoff(h) {
    var before = handoff ? handoff.status + (handoff.specialist ? handoff.specialist.name : "") : "";
    handoff = h;
    var now = h ? h.status + (h.specialist ? h.specialist.name : "") : "";
    banner.textContent = "";
    banner.hidden = !h;
    if (!h) return;
    banner.setAttribute("data-status", h.status);
    var lines = [];
    if (h.status === "resolved") {
      lines.push(el("strong", { text: t("resolved") }));
    } else if (h.specialist) {
      typing.stop("ai");
      lines.push(el("strong", { text: t("specialistJoined", { name: h.specialist.name }) }));
      if (h.specialist.expertise.length) {
        lines.push(el("span", { text: t("specialistExpertise", { skills: h.specialist.expertise.join(", ") }) }));
      }
    } else {
      typing.stop("ai");
      lines.push(el("strong", { text: t("escalationTitle") }));
      lines.push(el("span", { text: t("escalationWhy", { reason: h.reason_text }) }));
    }
    lines.forEach(function (line) { banner.appendChild(line); });
    if (h.status === "resolved" && ratingBox) banner.appendChild(ratingBox); /* kept across refreshes */
    if (before !== now) {
      announce(lines.map(function (line) { return line.textContent; }).join(" "));
      if (h.status === "resolved") {
        window.dispatchEvent(new CustomEvent("warmline:resolved", { detail: { conversationId: st.cid } }));
        if (RATING_ROUTE) showRating();
      }
    }
  }
  var ratingBox = null;
  function tx(key, fallback) { return T[key] == null ? fallback : t(key); }
  function showRating() { /* one question in the banner: 1-5 stars, a comment, Send; skippable */
    if (!st.cid || ratingBox) return;
    var picked = 0;
    var note = el("textarea", { "class": "wl-input", rows: "2", maxlength: "2000",
      "aria-label": tx("ratingComment", "Comment (optional)"), placeholder: tx("ratingComment", "Comment (optional)") });
    var done = el("span", { role: "status" });
    var stars = [1, 2, 3, 4, 5].map(function (n) {
      return el("button", { type: "button", "class": "wl-star", "aria-pressed": "false",
        "aria-label": tx("ratingStar", "{n} of 5").replace("{n}", n), text: "★",
        onclick: function () {
          picked = n;
          stars.forEach(function (b, i) { b.setAttribute("aria-pressed", String(i < n)); });
        } });
    });
    var send = el("button", { type: "submit", "class": "wl-send", text: tx("ratingSend", "Send rating") });
    var box = el("form", { "class": "wl-rating", "aria-label": tx("ratingQuestion", "How did we do?") }, [
      el("strong", { text: tx("ratingQuestion", "How did we do?") }),
      el("div", { role: "group", "aria-label": tx("ratingQuestion", "How did we do?") }, stars), note, send, done
    ]);
    box.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!picked) { done.textContent = tx("ratingPick", "Pick 1 to 5 stars first."); return; }
      send.disabled = true;
      api("POST", RATING_ROUTE.replace("{id}", encodeURIComponent(st.cid)), { rating: picked, comment: note.value })
        .then(function () { box.textContent = ""; box.appendChild(el("span", { role: "status", text: tx("ratingThanks", "Thank you for your rating.") })); },
          function (err) {
            send.disabled = false;
            if (err.status === 409) { box.textContent = ""; box.appendChild(el("span", { text: tx("ratingThanks", "Thank you for your rating.") })); }
            else done.textContent = err.message;
          });
    });
    ratingBox = box;
    banner.appendChild(box);
  }

  // --- typing, both ways -----------------------------------------------------------------
  var typing = {
    who: null, timer: null,
    show: function (who, text, ms) {
      this.who = who;
      typingLine.textContent = text;
      clearTimeout(this.timer);
      this.timer = setTimeout(function () { typing.stop(); }, ms || 6000);
    },
    stop: function (who) {
      if (who && this.who && who !== this.who) return;
      this.who = null;
      typingLine.textContent = "";
    }
  };
  var lastTypingSent = 0;
  function sendTyping() {
    var now = Date.now();
    if (!st.token || conn !== "live" || now - lastTypingSent < 3000) return;
    lastTypingSent = now;
    api("POST", "/v1/conversations/" + encodeURIComponent(st.cid) + "/typing", {}).catch(function () {});
  }

  // --- the event stream ------------------------------------------------------------------
  var stream = null, reconnectTimer = null, backoff = 0, lastByte = 0;
  function stopStream() {
    if (stream) { stream.abort(); stream = null; }
    clearTimeout(reconnectTimer);
  }
  function connect() {
    if (!st.token || stream) return;
    clearTimeout(reconnectTimer);
    var ctrl = new AbortController();
    stream = ctrl;
    if (conn !== "refused") setConn(backoff ? "reconnecting" : "connecting");
    var headers = { Authorization: "Bearer " + st.token };
    var last = load().lastEventId;
    if (last != null) headers["Last-Event-ID"] = String(last);
    fetch(HUB + "/v1/events", { headers: headers, signal: ctrl.signal, cache: "no-store" }).then(function (res) {
      if (res.status === 401) { stream = null; sessionGone(); return null; }
      if (!res.ok || !res.body) throw new Error("HTTP " + res.status);
      setConn("live");
      backoff = 0;
      lastByte = Date.now();
      flush();
      var reader = res.body.getReader(), decoder = new TextDecoder(), buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) throw new Error("the stream ended");
          lastByte = Date.now();
          buffer += decoder.decode(chunk.value, { stream: true });
          var at;
          while ((at = buffer.indexOf("\n\n")) >= 0) {
            frame(buffer.slice(0, at));
            buffer = buffer.slice(at + 2);
          }
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      if (stream !== ctrl) return; /* replaced or stopped on purpose */
      stream = null;
      if (conn !== "refused") setConn(navigator.onLine ? "reconnecting" : "offline");
      backoff = Math.min(backoff ? backoff * 2 : 500, 5000);
      reconnectTimer = setTimeout(connect, backoff * (0.5 + Math.random()));
    });
  }
  function restartStream() { stopStream(); backoff = 0; connect(); }
  function frame(text) {
    var id = null, data = "";
    text.split("\n").forEach(function (line) {
      if (line.slice(0, 3) === "id:") id = line.slice(3).trim();
      else if (line.slice(0, 5) === "data:") data += line.slice(5).trim();
    });
    if (!data) return;
    var ev;
    try { ev = JSON.parse(data); } catch (e) { return; }
    if (ev.type === "reset") reloadTranscript(); /* the hub's retention removed events we missed */
    else if (ev.conversation_id === st.cid) handle(ev);
    if (id != null) mutate(function (s) { s.lastEventId = Math.max(Number(s.lastEventId || 0), Number(id)); });
  }
  function reloadTranscript() {
    if (!st.cid) return;
    api("GET", "/v1/conversations/" + encodeURIComponent(st.cid)).then(function (c) {
      c.messages.forEach(addMessage);
      refreshState();
    }).catch(function () {});
  }
  function handle(ev) {
    var d = ev.data || {};
    if (ev.type === "message.created") addMessage(d.message);
    else if (ev.type === "conversation.typing" && d.author_kind !== "buyer") {
      typing.show(d.name || "agent", t("typing", { name: d.name || t("system") }), 6000);
    }
  }
  setInterval(function () { /* a stream silent past its keepalives (a laptop slept): reopen it */
    if (stream && conn === "live" && Date.now() - lastByte > 40000) restartStream();
  }, 5000);

  // --- starting up ----------------------------------------------------------------------
  function resume() {
    queue().forEach(renderPending);
    if (!st.token) { flush(); return; }
    setConn("connecting");
    loadState().then(function (s) {
      if (!st.token) return null;
      if (s && load().lastEventId == null) mutate(function (x) { x.lastEventId = s.last_event_id; });
      return api("GET", "/v1/conversations/" + encodeURIComponent(st.cid)).then(function (c) {
        c.messages.forEach(addMessage);
        refreshState();
      });
    }).catch(function (err) {
      if (err.status === 401 || err.status === 403) { sessionGone(); }
    }).then(function () { connect(); flush(); });
  }

  function open() {
    panel.hidden = false;
    root.classList.add("wl-open");
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", t("launcherClose"));
    unread = 0; badge.hidden = true;
    try { sessionStorage.setItem(OPEN_KEY, "1"); } catch (e) { /* ignore */ }
    input.focus();
    scrollDown();
  }
  function close() {
    panel.hidden = true;
    root.classList.remove("wl-open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", t("launcherOpen"));
    try { sessionStorage.removeItem(OPEN_KEY); } catch (e) { /* ignore */ }
    launcher.focus();
  }
  launcher.addEventListener("click", function () { if (panel.hidden) open(); else close(); });
  closeBtn.addEventListener("click", close);
  root.addEventListener("keydown", function (e) { /* the panel, or the launcher while it is open */
    if (e.key !== "Escape" || panel.hidden) return;
    e.preventDefault();
    if (!docView.hidden) closeDocument(); else close();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  input.addEventListener("input", sendTyping);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    input.value = "";
    submit(text);
  });
  window.addEventListener("online", function () { if (conn === "offline") setConn("connecting"); restartStream(); flush(); });
  window.addEventListener("offline", function () { if (conn !== "refused") setConn("offline"); refreshPendingNotes(); });
  window.addEventListener("storage", function (e) { /* another tab opened the conversation */
    if (e.key !== STORE) return;
    var fresh = load();
    if (fresh.token && fresh.token !== st.token) { st = fresh; switchConversation(); }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && stream && Date.now() - lastByte > 20000) restartStream();
  });

  var ready = false, readyAt = null;
  function show() { /* styled and interactive: the launcher can be used */
    if (ready) return;
    ready = true;
    readyAt = performance.now();
    root.classList.remove("wl-loading");
    window.dispatchEvent(new CustomEvent("warmline:ready", { detail: { at: readyAt } }));
  }
  css.addEventListener("load", show);
  css.addEventListener("error", show);
  setTimeout(show, 3000);
  (document.body || document.documentElement).appendChild(host);

  window.WarmlineWidget = {
    open: open, close: close,
    state: function () { return { connection: conn, refusal: refusal, conversationId: st.cid || null, ready: ready,
      readyAt: readyAt }; }
  };
  /* Continue a conversation on this device: #warmline-conversation=ID.TOKEN (the demo shop's
     "play this buyer" links; a "continue your chat" link). The token leaves the address bar. */
  function adopt() {
    var found = /[#&]warmline-conversation=([\w-]+)\.([\w-]+)/.exec(location.hash);
    if (!found) return false;
    history.replaceState(null, "", location.pathname + location.search);
    if (found[1] === st.cid) return true;
    mutate(function (s) { s.cid = found[1]; s.token = found[2]; s.queue = []; delete s.lastEventId; });
    return true;
  }
  function switchConversation() { /* forget what the panel shows, then load the stored conversation */
    stopStream();
    Array.prototype.slice.call(log.children).forEach(function (li) { if (li !== greeting) li.remove(); });
    byId = {}; refs = {}; pendingEls = {}; showHandoff(null);
    typing.stop();
    resume();
  }
  window.addEventListener("hashchange", function () {
    var before = st.cid;
    if (adopt()) { if (st.cid !== before) switchConversation(); open(); }
  });
  var adopted = adopt();
  resume();
  try { if (adopted || sessionStorage.getItem(OPEN_KEY)) open(); } catch (e) { /* ignore */ }
})();
