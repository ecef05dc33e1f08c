// The composer: simple rich text, the attachment size limit checked before upload, and
// the draft saved as you type. Without JavaScript the form still works as plain text.
(function () {
  "use strict";

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML.replace(/\n/g, "<br>");
  }

  function setup(form) {
    var text = form.querySelector("textarea[name=text]");
    var html = form.querySelector("input[name=html]");
    var rich = form.querySelector(".rich");
    var toggle = form.querySelector(".rich-toggle");
    var tools = form.querySelector(".rich-tools");
    var files = form.querySelector("input[type=file][data-max-bytes]");
    var state = form.querySelector(".draft-state");
    if (!text || !html || !rich || !toggle) return;

    function richOn() { return toggle.getAttribute("aria-pressed") === "true"; }
    function show(on) {
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      rich.hidden = !on; tools.hidden = !on; text.hidden = on;
    }
    // The rich editor mirrors into the two fields on every change, so submit and drafts
    // always carry both the HTML and its plain text.
    function sync() {
      if (richOn()) { html.value = rich.innerHTML; text.value = rich.innerText; }
      else { html.value = ""; }
    }
    if (html.value) { rich.innerHTML = html.value; show(true); }
    toggle.addEventListener("click", function () {
      if (richOn()) { text.value = rich.innerText; show(false); text.focus(); }
      else { rich.innerHTML = escapeHtml(text.value); show(true); rich.focus(); }
      sync(); changed();
    });
    tools.addEventListener("click", function (ev) {
      var button = ev.target.closest("button[data-cmd]");
      if (!button) return;
      var value = null;
      if (button.dataset.cmd === "createLink") {
        value = window.prompt(button.dataset.ask, "https://");
        if (!value || !/^(https?:|mailto:)/i.test(value)) return;
      }
      rich.focus();
      document.execCommand(button.dataset.cmd, false, value);
      sync(); changed();
    });
    rich.addEventListener("input", function () { sync(); changed(); });

    // Attachments: refuse files over the mailbox's limit before anything is uploaded.
    function tooBig() {
      if (!files) return false;
      var total = 0;
      for (var i = 0; i < files.files.length; i++) total += files.files[i].size;
      var max = parseInt(files.dataset.maxBytes, 10);
      var out = files.parentNode.querySelector(".too-big");
      var over = total > max;
      out.hidden = !over;
      out.textContent = over ? files.dataset.tooBig
        .replace("{size}", (total / 1048576).toFixed(1))
        .replace("{max}", (max / 1048576).toFixed(1)) : "";
      files.setCustomValidity(over ? out.textContent : "");
      return over;
    }
    if (files) files.addEventListener("change", tooBig);
    form.addEventListener("submit", function (ev) {
      sync();
      if (tooBig()) { ev.preventDefault(); files.focus(); return; }
      saving = true;  // no draft save may race the send
    });

    // Drafts: saved a second after the last keystroke, and when the page is left.
    var url = form.dataset.draft, timer = null, saving = false, dirty = false;
    function save() {
      timer = null;
      if (!url || saving || !dirty) return;
      dirty = false;
      var body = new FormData();
      ["to", "cc", "text", "html"].forEach(function (name) {
        var field = form.querySelector("[name=" + name + "]");
        body.append(name, field ? field.value : "");
      });
      body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      fetch(url, {method: "POST", body: body, credentials: "same-origin", keepalive: true})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (state && data) state.textContent = data.saved ? state.dataset.saved + " " + data.at : "";
        })
        .catch(function () { dirty = true; });
    }
    function changed() {
      dirty = true;
      if (timer) clearTimeout(timer);
      timer = setTimeout(save, 1000);
    }
    ["to", "cc", "text"].forEach(function (name) {
      var field = form.querySelector("[name=" + name + "]");
      if (field) field.addEventListener("input", changed);
    });
    window.addEventListener("pagehide", function () { if (dirty) save(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.composer").forEach(setup);
  });
})();
