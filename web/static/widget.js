/*
 * Oyat chat widget: talks socket.io to the assistant's widget channel (connectors/widget.py).
 *
 * The page gives it its settings in <script id="oyat-widget-config" type="application/json">:
 * server (Rasa's URL), socketPath, storageKey (where this page keeps its conversation id)
 * and authToken (the espace-client session token, or null for an anonymous visitor).
 * The conversation id lives in sessionStorage: a reload resumes the conversation, and
 * the server sends its history back.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("oyat-widget-config").textContent);
  var SESSION_KEY = config.storageKey + ":session";
  var OPEN_KEY = config.storageKey + ":open";

  var TEXT = {
    launcher: "Une question ? Discutons",
    title: "Assistant Oyat",
    close: "Fermer l'assistant",
    log: "Conversation avec l'assistant",
    you: "Vous : ",
    assistant: "Assistant : ",
    adviser: "Conseiller : ",
    adviserRole: ", conseiller Oyat Assurance",
    message: "Votre message",
    placeholder: "Écrivez votre message…",
    send: "Envoyer",
    attach: "Joindre une photo ou un PDF",
    typing: "L'assistant écrit",
    connecting: "Connexion…",
    connected: "En ligne",
    offline: "Connexion perdue, nouvelle tentative…",
    welcome: "Bonjour ! Je suis l'assistant d'Oyat Assurance. Posez-moi votre question, par exemple « déclarer un sinistre » ou « attestation d'assurance ».",
    quickReplies: "Réponses proposées",
    sending: "Envoi en cours…",
    sent: "Envoyé",
    refused: "Non envoyé",
    uploadFailed: "L'envoi du fichier a échoué : vérifiez votre connexion, puis réessayez.",
    image: "Image envoyée par l'assistant",
    yourImage: "Votre photo",
    opensNewTab: " (s'ouvre dans un nouvel onglet)",
    file: "Document",
  };
  var ACCEPTED_FILES = "image/jpeg,image/png,image/webp,image/heic,application/pdf";

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") node.textContent = attributes[name];
      else if (name === "className") node.className = attributes[name];
      else node.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  // Small line icons drawn in SVG (emoji fonts are missing on some systems).
  var ICONS = {
    clip: "M16 6v10a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10a1 1 0 0 1-2 0V7",
    document: "M6 2h8l5 5v15H6z M14 2v5h5 M9 13h7 M9 17h7",
  };
  function icon(name) {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "oyat-icon");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  function safeUrl(value) {
    try {
      var url = new URL(value, window.location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  // Text with its web addresses as links (text nodes only: nothing is parsed as HTML).
  var URL_PATTERN = /https?:\/\/[^\s<>"]+/g;
  function richText(text) {
    var fragment = document.createDocumentFragment();
    var last = 0;
    text.replace(URL_PATTERN, function (match, offset) {
      var address = match.replace(/[.,;:!?)»]+$/, "");
      fragment.appendChild(document.createTextNode(text.slice(last, offset)));
      var href = safeUrl(address);
      if (href) {
        fragment.appendChild(el("a", { href: href, target: "_blank", rel: "noopener", text: address }));
      } else {
        fragment.appendChild(document.createTextNode(address));
      }
      last = offset + address.length;
      return match;
    });
    fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  // ---- the panel -------------------------------------------------------------------------
  var launcher = el("button", { type: "button", className: "oyat-launcher", id: "oyat-chat-launcher",
    "aria-controls": "oyat-chat", "aria-expanded": "false", text: TEXT.launcher });
  var closeButton = el("button", { type: "button", className: "oyat-close", "aria-label": TEXT.close, text: "×" });
  var connection = el("p", { className: "oyat-connection", role: "status", text: TEXT.connecting });
  var log = el("div", { className: "oyat-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
    "aria-label": TEXT.log, tabindex: "0" });
  var typing = el("div", { className: "oyat-typing", role: "status" });
  var fileInput = el("input", { type: "file", accept: ACCEPTED_FILES, className: "oyat-visually-hidden",
    tabindex: "-1", "aria-hidden": "true" });
  var attachButton = el("button", { type: "button", className: "oyat-attach", "aria-label": TEXT.attach,
    title: TEXT.attach }, [icon("clip")]);
  var input = el("textarea", { id: "oyat-input", rows: "1", maxlength: "2000", placeholder: TEXT.placeholder });
  var sendButton = el("button", { type: "submit", text: TEXT.send });
  var form = el("form", { className: "oyat-form" }, [
    attachButton, fileInput,
    el("label", { for: "oyat-input", className: "oyat-visually-hidden", text: TEXT.message }),
    input, sendButton,
  ]);
  var panel = el("section", { id: "oyat-chat", className: "oyat-chat", role: "dialog",
    "aria-labelledby": "oyat-chat-title", hidden: "" }, [
    el("div", { className: "oyat-header" }, [
      el("h2", { id: "oyat-chat-title", text: TEXT.title }), connection, closeButton,
    ]),
    log, typing, form,
  ]);
  document.body.appendChild(launcher);
  document.body.appendChild(panel);

  function open(restoring) {
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    sessionStorage.setItem(OPEN_KEY, "1");
    if (restoring !== true) input.focus(); // a reloaded page keeps the focus where it starts
    scrollToEnd();
  }
  function close() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    sessionStorage.removeItem(OPEN_KEY);
    launcher.focus();
  }
  launcher.addEventListener("click", open);
  closeButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close();
  });

  // ---- messages in the log ----------------------------------------------------------------
  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }
  // The latest message stays in view, whatever added it (and images once loaded).
  new MutationObserver(scrollToEnd).observe(log, { childList: true, subtree: true });
  log.addEventListener("load", scrollToEnd, true);

  function bubble(sender, extraClass) {
    var node = el("div", { className: "oyat-message oyat-" + sender + (extraClass ? " " + extraClass : "") }, [
      el("span", { className: "oyat-visually-hidden",
        text: sender === "user" ? TEXT.you : sender === "adviser" ? TEXT.adviser : TEXT.assistant }),
    ]);
    log.appendChild(node);
    return node;
  }

  // Only the buttons of the latest answer can be used (the server accepts no other).
  function retireQuickReplies() {
    log.querySelectorAll(".oyat-quick-replies button").forEach(function (button) { button.disabled = true; });
  }

  function showUserText(text) {
    retireQuickReplies();
    bubble("user").appendChild(document.createTextNode(text));
  }

  function showUserFiles(files, status, previewUrl) {
    retireQuickReplies();
    var node = bubble("user");
    files.forEach(function (file) {
      node.appendChild(el("span", { className: "oyat-file" }, [icon("clip"), document.createTextNode(file.filename)]));
    });
    if (previewUrl) node.appendChild(el("img", { src: previewUrl, alt: TEXT.yourImage }));
    var statusLine = el("span", { className: "oyat-file-status", text: status || "" });
    node.appendChild(statusLine);
    return statusLine;
  }

  function showRefusal(text) {
    bubble("bot", "oyat-refusal").appendChild(el("span", { role: "alert", text: text }));
  }

  function showAttachment(node, attachment) {
    var payload = attachment.payload || {};
    var src = safeUrl(typeof attachment === "string" ? attachment : payload.src || payload.url || "");
    if (!src) return;
    if (attachment.type === "image") {
      node.appendChild(el("img", { src: src, alt: payload.alt || TEXT.image }));
    } else {
      var name = payload.name || TEXT.file;
      node.appendChild(el("a", { className: "oyat-file", href: src, target: "_blank", rel: "noopener", download: name },
        [icon("document"), document.createTextNode(name),
          el("span", { className: "oyat-visually-hidden", text: TEXT.opensNewTab })]));
    }
  }

  function showBotMessage(message) {
    if (typeof message.adviser === "string") {  // an adviser writes, by name
      var words = bubble("adviser");
      words.appendChild(el("span", { className: "oyat-adviser-name", text: message.adviser + TEXT.adviserRole }));
      words.appendChild(richText(message.text || ""));
      return;
    }
    var node = bubble("bot");
    if (message.text) node.appendChild(richText(message.text));
    if (message.attachment) showAttachment(node, message.attachment);
    if (message.custom && typeof message.custom.text === "string") node.appendChild(richText(message.custom.text));
    var replies = message.quick_replies || [];
    if (replies.length) {
      var group = el("div", { className: "oyat-quick-replies", role: "group", "aria-label": TEXT.quickReplies });
      replies.forEach(function (reply) {
        var button = el("button", { type: "button", text: reply.title });
        button.addEventListener("click", function () {
          send(reply.payload, reply.title);
          input.focus();
        });
        group.appendChild(button);
      });
      log.appendChild(group);
    }
  }

  function showHistory(messages) {
    log.textContent = "";
    if (!messages.length) bubble("bot", "oyat-welcome").appendChild(document.createTextNode(TEXT.welcome));
    messages.forEach(function (message) {
      if (message.sender === "user" && message.files) showUserFiles(message.files, TEXT.sent);
      else if (message.sender === "user") showUserText(message.text || "");
      else showBotMessage(message);
    });
  }

  function setTyping(on) {
    typing.textContent = "";
    if (!on) return;
    typing.appendChild(document.createTextNode(TEXT.typing));
    typing.appendChild(el("span", { className: "oyat-dots", "aria-hidden": "true" },
      [el("span", { text: "." }), el("span", { text: "." }), el("span", { text: "." })]));
  }

  // ---- the conversation ------------------------------------------------------------------
  var sessionId = null; // confirmed by the server
  var ready = false; // true once the conversation so far is shown: nothing is sent before
  var socket = io(config.server, { path: config.socketPath });

  function setReady(value) {
    ready = value;
    sendButton.disabled = !ready;
    attachButton.disabled = !ready;
  }
  setReady(false);

  socket.on("connect", function () {
    connection.textContent = TEXT.connecting;
    socket.emit("session_request", {
      session_id: sessionStorage.getItem(SESSION_KEY),
      customData: config.authToken ? { auth_token: config.authToken } : {},
    });
  });
  socket.on("session_confirm", function (id) {
    sessionStorage.setItem(SESSION_KEY, id);
    sessionId = id;
  });
  // The history follows the confirmation: the widget is ready once it shows it.
  socket.on("history", function (messages) {
    showHistory(messages);
    connection.textContent = TEXT.connected;
    setReady(true);
  });
  socket.on("bot_uttered", showBotMessage);
  socket.on("bot_typing", setTyping);
  socket.on("disconnect", function () {
    connection.textContent = TEXT.offline;
    setReady(false);
    setTyping(false);
  });

  function send(text, shown) {
    if (!ready || !text.trim()) return;
    showUserText(shown || text);
    socket.emit("user_uttered", { message: text, session_id: sessionId });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!ready || !text.trim()) return;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  attachButton.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files[0];
    fileInput.value = "";
    if (file && ready) upload(file);
  });

  function upload(file) {
    var preview = /^image\/(jpeg|png|webp)$/.test(file.type) ? URL.createObjectURL(file) : null;
    var status = showUserFiles([{ filename: file.name }], TEXT.sending, preview);
    var body = new FormData();
    body.append("session_id", sessionId);
    body.append("socket_id", socket.id);
    body.append("file", file, file.name);
    fetch(config.server.replace(/\/$/, "") + "/webhooks/widget/upload", { method: "POST", body: body })
      .then(function (answer) {
        return answer.json().catch(function () { return {}; }).then(function (json) {
          if (answer.ok) {
            status.textContent = TEXT.sent;
          } else {
            status.textContent = TEXT.refused;
            showRefusal((json.error && json.error.message) || TEXT.uploadFailed);
          }
        });
      })
      .catch(function () {
        status.textContent = TEXT.refused;
        showRefusal(TEXT.uploadFailed);
      })
      .finally(function () { input.focus(); });
  }

  if (sessionStorage.getItem(OPEN_KEY)) open(true);
})();
