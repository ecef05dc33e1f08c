// The conversation header's menus (assignee, other statuses, snooze, follow-up) are
// <details> elements and work without this script. It adds what a menu is expected to do:
// Escape or a click elsewhere closes it, Enter in the snooze date field snoozes until that
// date (not the first preset of the form), and a live update of the header (live.js
// replaces it when anything happens to the conversation) leaves an open menu open, with
// what was typed or chosen in it. Delegated on the document: the header is replaced whole.
(function () {
  "use strict";
  var opened = {};  // menus open now, by their classes ("snooze-menu")
  var chosen = {};  // the date typed and the "back to" chosen in the snooze menu

  function name(menu) {
    return Array.prototype.filter.call(menu.classList, function (c) { return c !== "menu"; })
      .join(".");
  }
  function openMenus() {
    return document.querySelectorAll("details.menu[open]");
  }

  document.addEventListener("toggle", function (ev) {
    var menu = ev.target;
    if (!menu.matches || !menu.matches("details.menu")) return;
    if (menu.open) { opened[name(menu)] = true; } else { delete opened[name(menu)]; }
  }, true);  // "toggle" does not bubble

  document.addEventListener("change", function (ev) {
    var t = ev.target;
    if (t.id === "snooze-until") chosen.until = t.value;
    if (t.name === "back_to" && t.checked) chosen.backTo = t.value;
  });

  document.addEventListener("live:updated", function () {
    var lost = document.activeElement === document.body;
    Object.keys(opened).forEach(function (key) {
      var menu = document.querySelector("details.menu." + key);
      if (!menu || menu.open) return;
      menu.open = true;
      var summary = menu.querySelector("summary");
      if (lost && summary) summary.focus();
    });
    var until = document.getElementById("snooze-until");
    if (until && !until.value && chosen.until) until.value = chosen.until;
    var back = chosen.backTo &&
      document.querySelector('input[name="back_to"][value="' + chosen.backTo + '"]:not([disabled])');
    if (back) back.checked = true;
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") {
      openMenus().forEach(function (menu) {
        var inside = menu.contains(document.activeElement);
        menu.open = false;
        var summary = menu.querySelector("summary");
        if (inside && summary) summary.focus();
      });
    } else if (ev.key === "Enter" && ev.target && ev.target.id === "snooze-until") {
      ev.preventDefault();
      var button = document.getElementById("snooze-custom");
      if (button) button.click();
    }
  });

  document.addEventListener("click", function (ev) {
    openMenus().forEach(function (menu) {
      if (!menu.contains(ev.target)) menu.open = false;
    });
  });
})();
