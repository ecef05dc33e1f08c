// The template picker of the composer (定型文): opened by its button, by Ctrl+Shift+Space,
// or by typing "/" (or "／") at the start of a line. Typing searches the templates by name
// or text; ↑/↓ choose, Enter inserts the template filled in for this conversation (the
// server fills the variables) at the cursor, Esc closes and gives the cursor back. A "/"
// that opened the picker is replaced by the template, or stays as typed after Esc.
// The template's files join the reply as hidden fields naming them (the server checks
// them again and attaches the stored files), and the template's id is sent so its use is
// counted once the reply is queued.
(function () {
  "use strict";

  var SLASHES = ["/", "／"];

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML.replace(/\n/g, "<br>");
  }

  function size(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1048576) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1048576).toFixed(1) + " MB";
  }

  function setup(form) {
    var picker = form.querySelector(".template-picker");
    var opener = form.querySelector(".template-open");
    var text = form.querySelector("textarea[name=text]");
    var rich = form.querySelector(".rich");
    if (!picker || !opener || !text) return;
    var search = picker.querySelector(".template-search");
    var list = picker.querySelector(".template-options");
    var empty = picker.querySelector(".template-empty");
    var files = form.querySelector(".template-files");
    var used = form.querySelector(".template-used");
    var subject = form.querySelector("input[name=subject]");
    var none = empty.textContent;  // "No template matches." (an error may replace it)
    var items = [], active = -1, asked = 0, timer = null;
    // Enter pressed while the list for what was typed is still coming: chosen when it comes.
    var loading = false, wantEnter = false;
    // Where the template goes: the textarea's selection, or the rich editor's range; and
    // the "/" that opened the picker, if one did.
    var at = null;

    function richOn() { return rich && !rich.hidden; }

    function remember(slash) {
      if (richOn()) {
        var sel = window.getSelection();
        var range = sel.rangeCount && rich.contains(sel.anchorNode) ? sel.getRangeAt(0).cloneRange() : null;
        at = {rich: true, range: range, slash: slash};
      } else {
        at = {rich: false, start: text.selectionStart, end: text.selectionEnd, slash: slash};
      }
    }

    function open(slash) {
      remember(slash === undefined ? null : slash);
      picker.hidden = false;
      opener.setAttribute("aria-expanded", "true");
      search.value = "";
      search.focus();
      load("");
    }

    function giveBack() {
      if (!at) return;
      if (at.rich) {
        rich.focus();
        if (at.range) {
          var sel = window.getSelection();
          sel.removeAllRanges();
          sel.addRange(at.range);
        }
      } else {
        text.focus();
        text.setSelectionRange(at.start, at.end);
      }
    }

    function close(restore) {
      if (picker.hidden) return;
      picker.hidden = true;
      opener.setAttribute("aria-expanded", "false");
      search.removeAttribute("aria-activedescendant");
      items = []; active = -1; list.textContent = "";
      wantEnter = false; loading = false; asked++;  // an answer still coming is for nobody
      if (timer) { clearTimeout(timer); timer = null; }
      if (restore) giveBack();
    }

    function load(query) {
      var mine = ++asked;
      timer = null; loading = true;
      fetch(picker.dataset.search + "?q=" + encodeURIComponent(query),
            {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          if (mine !== asked || picker.hidden) return;  // a later keystroke asked again
          loading = false;
          items = data.templates || [];
          draw();
          if (wantEnter) { wantEnter = false; if (active >= 0) choose(active); }
        })
        .catch(function () {
          if (mine !== asked) return;
          loading = false; wantEnter = false;
          items = []; draw();
          empty.textContent = picker.dataset.error;
        });
    }

    function option(t, i) {
      var li = document.createElement("li");
      li.id = "template-option-" + t.id;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      var head = document.createElement("span");
      head.className = "head";
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = t.name;
      head.appendChild(name);
      var extras = [];
      if (t.folder) extras.push(t.folder);
      if (t.shared) extras.push(picker.dataset.shared);
      if (t.files) extras.push(picker.dataset.files.replace("{n}", t.files));
      if (extras.length) {
        var small = document.createElement("small");
        small.textContent = extras.join(" · ");
        head.appendChild(small);
      }
      var snippet = document.createElement("span");
      snippet.className = "snippet";
      snippet.textContent = t.snippet;
      li.appendChild(head);
      li.appendChild(snippet);
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); });
      li.addEventListener("click", function () { choose(i); });
      return li;
    }

    function draw() {
      list.textContent = "";
      items.forEach(function (t, i) { list.appendChild(option(t, i)); });
      empty.hidden = items.length > 0;
      empty.textContent = none;
      activate(items.length ? 0 : -1);
    }

    function activate(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, n) {
        li.setAttribute("aria-selected", n === i ? "true" : "false");
      });
      var current = list.children[i];
      if (current) {
        search.setAttribute("aria-activedescendant", current.id);
        current.scrollIntoView({block: "nearest"});
      } else {
        search.removeAttribute("aria-activedescendant");
      }
    }

    var choosing = false;  // one template at a time, however often Enter is pressed
    function choose(i) {
      var t = items[i];
      if (!t || choosing) return;
      choosing = true;
      var url = picker.dataset.render.replace(/\/0\.json$/, "/" + t.id + ".json");
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) { choosing = false; if (!picker.hidden) insert(data); })
        .catch(function () {
          choosing = false;
          empty.hidden = false; empty.textContent = picker.dataset.error;
        });
    }

    function insertPlain(value) {
      var start = at.start, end = at.end;
      if (at.slash !== null && SLASHES.indexOf(text.value.charAt(at.slash)) >= 0) {
        start = at.slash;
        end = Math.max(end, at.slash + 1);
      }
      text.focus();
      text.setRangeText(value, start, end, "end");
      text.dispatchEvent(new Event("input", {bubbles: true}));  // the draft and compose.js
    }

    function insertRich(value) {
      rich.focus();
      var sel = window.getSelection();
      var range = at.range;
      if (at.slash && SLASHES.indexOf(at.slash.node.data.charAt(at.slash.offset)) >= 0) {
        range = document.createRange();  // the "/" that opened the picker goes first
        range.setStart(at.slash.node, at.slash.offset);
        range.setEnd(at.slash.node, at.slash.offset + 1);
      }
      if (range) { sel.removeAllRanges(); sel.addRange(range); }
      document.execCommand("insertHTML", false, escapeHtml(value));
    }

    function insert(data) {
      close(false);
      if (at && at.rich) insertRich(data.text); else if (at) insertPlain(data.text);
      if (subject && !subject.value.trim() && data.subject) subject.value = data.subject;
      addUsed(data.id);
      (data.files || []).forEach(addFile);
    }

    function addUsed(id) {
      if (!used || used.querySelector('input[value="' + id + '"]')) return;
      var input = document.createElement("input");
      input.type = "hidden"; input.name = "templates"; input.value = id;
      used.appendChild(input);
    }

    function addFile(f) {
      if (!files || files.querySelector('input[value="' + f.id + '"]')) return;
      var li = document.createElement("li");
      var input = document.createElement("input");
      input.type = "hidden"; input.name = "template_files"; input.value = f.id;
      var name = document.createElement("span");
      name.className = "name"; name.textContent = f.name;
      var small = document.createElement("small");
      small.textContent = size(f.size);
      var remove = document.createElement("button");
      remove.type = "button"; remove.className = "template-file-remove"; remove.textContent = "×";
      remove.setAttribute("aria-label", files.dataset.remove + " " + f.name);
      li.appendChild(input); li.appendChild(name); li.appendChild(document.createTextNode(" "));
      li.appendChild(small); li.appendChild(document.createTextNode(" ")); li.appendChild(remove);
      files.appendChild(li);
    }

    if (files) {
      files.addEventListener("click", function (ev) {
        var button = ev.target.closest(".template-file-remove");
        if (button) button.closest("li").remove();
      });
    }

    opener.addEventListener("click", function () {
      if (picker.hidden) open(null); else close(true);
    });

    search.addEventListener("input", function () {
      if (timer) clearTimeout(timer);
      loading = true;
      timer = setTimeout(function () { load(search.value); }, 120);
    });
    search.addEventListener("keydown", function (ev) {
      if (ev.isComposing || ev.keyCode === 229) return;  // the IME's own Enter and arrows
      if (ev.key === "ArrowDown") {
        ev.preventDefault(); if (items.length) activate(Math.min(active + 1, items.length - 1));
      } else if (ev.key === "ArrowUp") {
        ev.preventDefault(); if (items.length) activate(Math.max(active - 1, 0));
      } else if (ev.key === "Enter") {
        ev.preventDefault();
        if (loading) wantEnter = true; else if (active >= 0) choose(active);
      } else if (ev.key === "Escape") {
        ev.preventDefault(); ev.stopPropagation(); close(true);
      } else if (ev.key === "Tab") {
        close(false);
      }
    });
    document.addEventListener("mousedown", function (ev) {
      if (!picker.hidden && !picker.contains(ev.target) && ev.target !== opener) close(false);
    });

    // Ctrl+Shift+Space in the text (plain or rich).
    function shortcut(ev) {
      if (ev.ctrlKey && ev.shiftKey && (ev.code === "Space" || ev.key === " ")) {
        ev.preventDefault();
        open(null);
      }
    }
    text.addEventListener("keydown", shortcut);
    if (rich) rich.addEventListener("keydown", shortcut);

    // "/" at the start of a line of the plain text.
    function slashInText(data) {
      if (SLASHES.indexOf(data) < 0 || text.selectionStart !== text.selectionEnd) return;
      var pos = text.selectionStart - 1;
      if (pos >= 0 && SLASHES.indexOf(text.value.charAt(pos)) >= 0 &&
          (pos === 0 || text.value.charAt(pos - 1) === "\n")) {
        open(pos);
      }
    }
    text.addEventListener("input", function (ev) {
      if (!ev.isComposing && ev.inputType === "insertText") slashInText(ev.data);
    });
    text.addEventListener("compositionend", function (ev) { slashInText(ev.data); });

    // "/" at the start of a line of the rich editor: first in its text, after a line break.
    function slashInRich(data) {
      if (SLASHES.indexOf(data) < 0) return;
      var sel = window.getSelection();
      if (!sel.rangeCount || !sel.isCollapsed) return;
      var node = sel.anchorNode, offset = sel.anchorOffset;
      if (!node || node.nodeType !== Node.TEXT_NODE || offset < 1) return;
      var before = node.data.slice(0, offset - 1);
      var previous = node.previousSibling;
      var lineStart = (before === "" && (!previous || previous.nodeName === "BR")) ||
        before.slice(-1) === "\n";
      if (lineStart && SLASHES.indexOf(node.data.charAt(offset - 1)) >= 0) {
        open({node: node, offset: offset - 1});
      }
    }
    if (rich) {
      rich.addEventListener("input", function (ev) {
        if (!ev.isComposing && ev.inputType === "insertText") slashInRich(ev.data);
      });
      rich.addEventListener("compositionend", function (ev) { slashInRich(ev.data); });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.composer").forEach(setup);
  });
})();
