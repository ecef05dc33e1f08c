// "+ address" chips of the composer: add a newcomer of the conversation to the reply's To.
// The reply never goes to them by default (conversations/participants.py).
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var chip = ev.target.closest("button.add-recipient");
    if (!chip) return;
    var to = chip.form && chip.form.querySelector("input[name=to]");
    if (!to) return;
    var address = chip.dataset.address;
    var current = to.value.trim();
    if (current.toLowerCase().indexOf(address.toLowerCase()) === -1) {
      to.value = current ? current.replace(/,\s*$/, "") + ", " + address : address;
      to.dispatchEvent(new Event("input", { bubbles: true }));
    }
    chip.hidden = true;
  });
})();
