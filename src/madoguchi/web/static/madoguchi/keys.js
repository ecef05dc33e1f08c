// Keyboard shortcuts (UI.md): j/k move, Enter/o open, u back, a take, e done, r reply,
// n note, x select for bulk changes, ? help.
// Never while typing in a field or during IME composition.
(function () {
  "use strict";
  function typing(ev) {
    var t = ev.target;
    return ev.isComposing || ev.keyCode === 229 ||
      (t && (t.isContentEditable || /^(TEXTAREA|SELECT)$/.test(t.tagName) ||
        (t.tagName === "INPUT" && !/^(checkbox|radio|button|submit)$/.test(t.type))));
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
  function focus(id) {
    var el = document.getElementById(id);
    if (el) { el.scrollIntoView({block: "center"}); el.focus(); }
  }
  function picked() {
    var boxes = document.querySelectorAll(".row .pick");
    var n = document.querySelectorAll(".row .pick:checked").length;
    var out = document.querySelector(".bulk .picked");
    if (out) out.textContent = n ? n + " " + out.dataset.label : "";
    var all = document.getElementById("pick-all");
    if (all) { all.checked = n > 0 && n === boxes.length; all.indeterminate = n > 0 && n < boxes.length; }
  }
  document.addEventListener("live:updated", picked); // a ticked row may have left the list
  document.addEventListener("change", function (ev) {
    if (ev.target.id === "pick-all") {
      document.querySelectorAll(".row .pick").forEach(function (b) { b.checked = ev.target.checked; });
    }
    if (ev.target.id === "pick-all" || ev.target.classList.contains("pick")) picked();
  });
  function toggle() {
    var row = document.querySelector(".row.selected .pick");
    if (row) { row.checked = !row.checked; picked(); }
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
      case "c": click("c"); break;
      case "r": focus("id_text"); break;
      case "n": focus("id_note"); break;
      case "x": toggle(); break;
      case "/": focus("search-q"); break;
      case "?": if (help) help.hidden = !help.hidden; break;
      case "Escape": if (help) help.hidden = true; break;
      default: return;
    }
    ev.preventDefault();
  });
})();
