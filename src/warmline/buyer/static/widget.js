/* Warmline web chat: the one-line embed.
   <script src="https://HUB/widget.js" data-workspace="KEY" async></script>
   Optional attributes: data-lang="en", data-title="…", data-sku-url="https://shop/p/{sku}".
   Loads the widget's versioned files (content-hashed names, cached for a year). */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-workspace]");
  if (!script || window.WarmlineWidgetConfig) return;
  var files = __WARMLINE_FILES__;
  var base = script.src.replace(/\/widget\.js(\?.*)?$/, "");
  window.WarmlineWidgetConfig = {
    hub: base,
    key: script.getAttribute("data-workspace") || "",
    lang: script.getAttribute("data-lang") || "en",
    title: script.getAttribute("data-title") || "",
    skuUrl: script.getAttribute("data-sku-url") || "",
    css: base + "/widget/" + files.css
  };
  function load() { /* after the page's own load event, so the chat never delays it */
    var preload = document.createElement("link"); /* fetch the styles alongside the scripts */
    preload.rel = "preload";
    preload.as = "style";
    preload.href = window.WarmlineWidgetConfig.css;
    document.head.appendChild(preload);
    ["strings", "app"].forEach(function (role) {
      var s = document.createElement("script");
      s.src = base + "/widget/" + files[role];
      s.async = false; /* in order: strings, then the app */
      document.head.appendChild(s);
    });
  }
  if (document.readyState === "complete") load();
  else window.addEventListener("load", load);
})();
