// Keyboard shortcuts (UI.md): j/k move, Enter/o open, u back, a take, e done, ? help.
// Never while typing in a field or during IME composition.
(function () {
  "use strict";
  function typing(ev) {
    var t = ev.target;
    return ev.isComposing || ev.keyCode === 229 ||
      (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)));
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".row")); }
  function move(step) {
    var all = rows(); if (!all.length) return;
    var i = all.findIndex(function (r) { return r.classList.contains("selected"); });
    var next = Math.max(0, Math.min(all.length - 1, i + step));
    if (i >= 0) all[i].classList.remove("selected");
    all[next].classList.add("selected");
    all[next].querySelector("a").focus();
  }
  function click(key) {
    var el = document.querySelector('[data-key="' + key + '"]');
    if (el) el.click();
  }
  document.addEventListener("keydown", function (ev) {
    if (typing(ev) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var help = document.getElementById("keys-help");
    switch (ev.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "o": case "Enter":
        var sel = document.querySelector(".row.selected a");
        if (sel) { sel.click(); } else { return; }
        break;
      case "u": click("u"); break;
      case "a": click("a"); break;
      case "e": click("e"); break;
      case "?": if (help) help.hidden = !help.hidden; break;
      case "Escape": if (help) help.hidden = true; break;
      default: return;
    }
    ev.preventDefault();
  });
})();
