/* Every text the widget shows, in one place. To translate: add a language here (or set
   window.WarmlineStrings[lang] = {...} before widget.js), and use data-lang="xx". */
(function () {
  "use strict";
  var all = window.WarmlineStrings = window.WarmlineStrings || {};
  var en = {
    launcherOpen: "Chat with us",
    launcherClose: "Close chat",
    title: "Product questions",
    subtitle: "AI answers from our catalog; a specialist when you need one",
    close: "Close",
    logLabel: "Conversation",
    inputLabel: "Your message",
    placeholder: "Ask about a product, a document or a quote…",
    send: "Send",
    hint: "Enter sends · Shift+Enter new line · Esc closes",
    greeting: "Hi! Ask me about our products: ratings, documents, substitutes, quotes. A specialist joins when you need one.",
    you: "You",
    ai: "Warmline AI",
    system: "Warmline",
    connecting: "Connecting…",
    online: "",
    reconnecting: "Connection lost; reconnecting…",
    offline: "You are offline. Messages you write are kept and sent when you are back.",
    queued: "Waiting for connection…",
    sending: "Sending…",
    failed: "Not sent: {reason}",
    retry: "Retry",
    refusedOrigin: "This chat is not available on this website ({reason}).",
    refusedKey: "This chat is not set up correctly (unknown widget key).",
    refusedGeneric: "The chat service refused this: {reason}",
    rateLimited: "Too many new chats from your network. Please try again in {seconds} s.",
    sessionGone: "Your earlier chat has ended; a new one starts with your next message.",
    escalationTitle: "A specialist is joining: you do not need to repeat anything.",
    escalationWhy: "Why: {reason}",
    specialistJoined: "{name} has joined",
    specialistExpertise: "Expertise: {skills}",
    resolved: "This conversation was marked as resolved. You can still write here.",
    typing: "{name} is typing…",
    aiTyping: "Warmline AI is typing…",
    skus: "Products",
    sources: "Sources",
    openDocument: "Open {title}",
    document: "Document",
    back: "Back",
    loading: "Loading…",
    newMessages: "{count} new",
    announceReply: "New message from {name}"
  };
  all.en = Object.assign({}, en, all.en || {});
})();
