// The advisers' console: the queue refreshed every 5 s, the conversation every 1.5 s, the
// adviser's messages sent without reloading the page. Every page works without it.
(function () {
  "use strict";

  var QUEUE_EVERY_MS = 5000;
  var CONVERSATION_EVERY_MS = 1500;
  var tokenTag = document.querySelector('meta[name="csrf-token"]');
  var csrf = tokenTag ? tokenTag.content : "";

  // The words of a code, as the pages say them (<template id="console-messages">).
  function words(code) {
    var items = document.getElementById("console-messages").content.querySelectorAll("p");
    for (var i = 0; i < items.length; i++) {
      if (items[i].dataset.code === code) return items[i].textContent;
    }
    return words("refused");
  }

  function get(url, accept) {
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: accept } })
      .then(function (answer) {
        // The session ended: the page reloads to the login form, which says so.
        if (answer.status === 401) { window.location.reload(); throw new Error("session"); }
        return answer;
      });
  }

  // --- the queue ---------------------------------------------------------------------------
  var queue = document.getElementById("file-attente");
  if (queue) {
    window.setInterval(function () {
      get(queue.dataset.source, "text/html").then(function (answer) {
        return answer.ok ? answer.text() : null;
      }).then(function (html) {
        if (html !== null && html !== queue.innerHTML) queue.innerHTML = html;
      }).catch(function () { /* tried again in 5 s */ });
    }, QUEUE_EVERY_MS);
  }

  // --- the conversation --------------------------------------------------------------------
  var log = document.getElementById("conversation");
  var pauseState = document.getElementById("etat-pause");
  var polling = false;

  function atBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  }

  function poll() {
    if (!log || polling) return Promise.resolve();
    polling = true;
    var url = log.dataset.source + "?apres=" + encodeURIComponent(log.dataset.after || "0");
    return get(url, "application/json").then(function (answer) {
      return answer.ok ? answer.json() : null;
    }).then(function (news) {
      if (!news) return;
      if (news.html) {
        var follow = atBottom();
        log.insertAdjacentHTML("beforeend", news.html);
        if (follow) log.scrollTop = log.scrollHeight;
      }
      log.dataset.after = String(news.after);
      if (pauseState) pauseState.dataset.paused = news.paused ? "true" : "false";
    }).catch(function () { /* tried again */ }).then(function () { polling = false; });
  }

  if (log) {
    log.scrollTop = log.scrollHeight;
    window.setInterval(poll, CONVERSATION_EVERY_MS);
  }

  // --- the adviser's message ---------------------------------------------------------------
  var form = document.getElementById("message-form");
  if (form) {
    var box = form.querySelector("textarea");
    var error = document.getElementById("message-error");
    var button = form.querySelector('button[type="submit"]');
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      error.hidden = true;
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": csrf },
        body: new URLSearchParams(new FormData(form)),
      }).then(function (answer) {
        if (answer.status === 401) { window.location.reload(); return null; }
        return answer.json().catch(function () { return { ok: false, error: "refused" }; });
      }).then(function (result) {
        if (!result) return;
        if (result.ok) {
          box.value = "";
          poll();
        } else {
          error.textContent = words(result.error);
          error.hidden = false;
        }
      }).catch(function () {
        error.textContent = words("service_unavailable");
        error.hidden = false;
      }).then(function () {
        button.disabled = false;
        box.focus();
      });
    });
    // Ctrl+Entrée sends, as in most messaging tools; Entrée alone goes to the next line.
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
    });
  }
})();
