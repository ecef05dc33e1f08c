// The template editor (/admin/templates/<id>/): the preview follows the text as it is typed
// (the server fills the variables for a sample conversation), and a variable of the list
// goes in at the cursor when clicked. Without JavaScript the preview shows the saved text.
(function () {
  "use strict";

  function setup(form) {
    var body = form.querySelector("[name=body]");
    var subject = form.querySelector("[name=subject]");
    var mailbox = form.querySelector("[name=mailbox]");
    var out = document.querySelector(".template-preview .preview-text");
    var outSubject = document.querySelector(".template-preview .preview-subject");
    var sample = document.querySelector(".template-preview .sample");
    if (!body || !out) return;
    var timer = null, asked = 0;

    function refresh() {
      timer = null;
      var data = new FormData();
      data.append("body", body.value);
      data.append("subject", subject ? subject.value : "");
      data.append("mailbox", mailbox ? mailbox.value : "");
      data.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      var mine = ++asked;
      fetch(form.dataset.preview, {method: "POST", body: data, credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (answer) {
          if (!answer || mine !== asked) return;  // a later keystroke asked again
          out.textContent = answer.text;
          if (outSubject) { outSubject.textContent = answer.subject; outSubject.hidden = !answer.subject; }
          if (sample) {
            sample.querySelector(".sample-name").textContent = answer.sample;
            sample.querySelector(".with-sample").hidden = !answer.sample;
            sample.querySelector(".no-sample").hidden = !!answer.sample;
          }
        })
        .catch(function () {});
    }
    function later() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    }
    body.addEventListener("input", later);
    if (subject) subject.addEventListener("input", later);
    if (mailbox) mailbox.addEventListener("change", later);

    document.querySelectorAll(".insert-variable").forEach(function (button) {
      button.addEventListener("click", function () {
        var text = button.dataset.variable;
        var start = body.selectionStart, end = body.selectionEnd;
        body.setRangeText(text, start, end, "end");
        body.focus();
        later();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.template-form[data-preview]");
    if (form) setup(form);
  });
})();
