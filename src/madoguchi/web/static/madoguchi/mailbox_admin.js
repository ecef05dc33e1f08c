// Mailbox settings: "Test IMAP/SMTP connection" posts the form as typed in the background
// and shows the answer right beside the button (the server renders admin/_check.html).
// When the form has errors, or without this script, the page is posted as usual and comes
// back scrolled to the section of the button.
(function () {
  "use strict";
  document.querySelectorAll(".mailbox-form button[name=test]").forEach(function (button) {
    button.addEventListener("click", function (ev) {
      var form = button.form;
      var slot = document.getElementById("check-" + button.value + "-slot");
      if (!form || !slot || !window.fetch) return;
      ev.preventDefault();
      var data = new FormData(form);
      data.append("test", button.value);
      button.disabled = true;
      slot.textContent = button.dataset.testing || "…";
      fetch(location.pathname, {method: "POST", body: data, credentials: "same-origin",
                                headers: {"X-Fragment": "check"}})
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
        .then(function (html) { slot.innerHTML = html; button.disabled = false; })
        .catch(function () {
          button.disabled = false;
          slot.textContent = "";
          form.requestSubmit(button);  // show the fields to fix, with the whole page
        });
    });
  });
})();
