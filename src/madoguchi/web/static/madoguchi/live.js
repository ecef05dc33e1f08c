// Live screens (docs/decisions/0003-live-updates.md): one WebSocket per tab to /live.
// An event re-renders only what it affects, through small fragments (web/fragments.py):
// the list rows of the conversations it names (a row may enter or leave the list), the
// counts (rail, tabs, bell, approvals), and on a conversation its meta and the timeline
// items newer than the tab's. Ticked rows, the selected row and any field being typed in
// are kept. A change of access, a tab that missed too much, or a page without fragments
// (approvals, notifications) fetches the page again and swaps its data-live parts.
// Presence ("Sato is viewing") is painted on the conversation and on list rows.
(function () {
  "use strict";
  var body = document.body;
  var path = body.dataset.liveUrl;
  if (!path || !window.WebSocket) return;
  var last = Number(body.dataset.after || 0);
  var me = Number(body.dataset.me || 0);
  var conversation = Number(body.dataset.conversation || 0) || null;
  var seen = new Set();
  var presence = {};
  var socket = null, retry = 0, state = "viewing";
  var timer = null, busy = false, again = false, dirty = false;
  // the most ids one fragment request names; beyond that the page is fetched instead
  var MAX_IDS = 100;
  // what the event types mean here, from their one declaration (core/event_types.py)
  var TYPES = JSON.parse(document.getElementById("live-event-types").textContent);
  var UNCOUNTED = new Set(TYPES.uncounted);  // change no count: no /f/counts
  var RELOADS = new Set(TYPES.reloads);      // names shown everywhere changed: whole page
  var PERSONAL = new Set(TYPES.personal);    // meant for one agent (data.to)
  var MERGED = new Set(TYPES.merged);        // messages moved between conversations
  var want = wanted();

  function wanted() {
    return {page: false, counts: false, rows: new Set(), items: false,
      msg: new Set(), note: new Set(), ev: new Set()};
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + path + "?after=" + last);
    socket.onopen = function () { retry = 0; body.classList.remove("offline"); say(); };
    socket.onmessage = function (m) { handle(JSON.parse(m.data)); };
    socket.onclose = function (ev) {
      body.classList.add("offline");
      if (ev.code === 4401 || ev.code === 4403) return; // signed out or no longer allowed
      setTimeout(connect, Math.min(10000, 500 * Math.pow(2, retry++)));
    };
  }

  function say() {
    if (socket && socket.readyState === 1 && conversation) {
      socket.send(JSON.stringify({conversation: conversation, state: state}));
    }
  }

  function handle(msg) {
    if (msg.type === "event") {
      if (seen.has(msg.id)) return;
      seen.add(msg.id);
      if (msg.id > last) last = msg.id;
      document.dispatchEvent(new CustomEvent("live:event", {detail: msg}));
      if (PERSONAL.has(msg.event) && msg.data.to === me) pop(msg.data.notification);
      affects(msg);
      schedule();
    } else if (msg.type === "presence") {
      presence[msg.conversation] = msg.agents;
      paint();
    } else if (msg.type === "presence_all") {
      presence = msg.items;
      paint();
    } else if (msg.type === "resync" || msg.type === "access") {
      want.page = true;
      schedule();
    }
  }

  // --- what one event affects ---------------------------------------------------------
  function affects(msg) {
    var data = msg.data || {};
    if (RELOADS.has(msg.event) || document.querySelector('[data-live="list"]:not([data-rows])')) {
      want.page = true; // a page without fragments (approvals, notifications)
    }
    if (!UNCOUNTED.has(msg.event)) want.counts = true;
    if (PERSONAL.has(msg.event) || !msg.conversation) return;
    if (document.querySelector("[data-live=list][data-rows]")) {
      want.rows.add(msg.conversation);
      if (data.merged) want.rows.add(data.merged);
    }
    if (!conversation) return;
    if (MERGED.has(msg.event) &&
        (msg.conversation === conversation || data.merged === conversation)) {
      want.page = true; // moved messages, or this conversation is gone
    } else if (msg.conversation === conversation) {
      want.items = true;
      want.ev.add(msg.id);
      if (data.message) want.msg.add(data.message);
      if (data.note) want.note.add(data.note);
    }
  }

  // --- presence -----------------------------------------------------------------------
  function others(id) {
    return (presence[id] || []).filter(function (a) { return a.agent !== me; });
  }
  function sentence(a) {
    var template = a.state === "replying" ? body.dataset.replying : body.dataset.viewing;
    return template.replace("{name}", a.name);
  }
  function paint() {
    var here = document.getElementById("presence");
    if (here && conversation) {
      var list = others(conversation);
      here.textContent = list.map(sentence).join(" · ");
      here.classList.toggle("replying", list.some(function (a) { return a.state === "replying"; }));
    }
    document.querySelectorAll(".row[data-conv]").forEach(function (row) {
      var spot = row.querySelector(".presence");
      if (!spot) return;
      var list = others(Number(row.dataset.conv));
      spot.textContent = list.map(function (a) {
        return a.name + " " + (a.state === "replying" ? body.dataset.replyingShort : body.dataset.viewingShort);
      }).join(" · ");
      spot.title = list.map(sentence).join(" · ");
      spot.classList.toggle("replying", list.some(function (a) { return a.state === "replying"; }));
    });
  }

  // --- fetching what changed ----------------------------------------------------------
  function schedule() {
    if (document.hidden) { dirty = true; return; }
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && dirty) { dirty = false; schedule(); }
  });

  function update() {
    if (busy) { again = true; return; }
    var w = want;
    want = wanted();
    if (w.rows.size > MAX_IDS || w.msg.size > MAX_IDS || w.note.size > MAX_IDS ||
        w.ev.size > MAX_IDS) w.page = true;
    var jobs = w.page ? [page()] : [w.counts && counts(), w.rows.size && rows(w.rows),
      w.items && items(w)].filter(Boolean);
    if (!jobs.length) return;
    busy = true;
    Promise.all(jobs)
      .catch(function () { want.page = true; }) // offline: the next event tries again, whole
      .then(function () {
        busy = false;
        var any = !!document.querySelector(".row");
        var bulk = document.getElementById("bulk");
        if (bulk) bulk.hidden = !any;
        var empty = document.querySelector("[data-live=list] .empty");
        if (empty) empty.hidden = any;
        paint();
        document.dispatchEvent(new CustomEvent("live:updated"));
        if (again || want.page) { again = false; schedule(); }
      });
  }

  function get(url) {
    return fetch(url, {credentials: "same-origin", headers: {"X-Live": "1"}})
      .then(function (r) {
        if (r.status === 403 || r.status === 404) { body.classList.add("gone"); return null; }
        if (!r.ok) throw new Error("live: " + r.status);
        return r.text();
      })
      .then(function (html) {
        return html === null ? null : new DOMParser().parseFromString(html, "text/html");
      });
  }

  function counts() {
    return get(body.dataset.counts).then(function (doc) {
      if (doc) swap(doc, ["rail", "unassigned", "bell", "approvals", "tabs"]);
    });
  }

  // parts whose content is replaced whole, unless nothing changed or someone types in them
  function swap(doc, names) {
    names.forEach(function (name) {
      var el = document.querySelector('[data-live="' + name + '"]');
      var fresh = doc.querySelector('[data-live="' + name + '"]');
      if (!el || !fresh || same(el.innerHTML, fresh.innerHTML) || typedIn(el)) return;
      var picked = keep(el);
      el.innerHTML = fresh.innerHTML;
      restore(el, picked);
    });
  }
  // a form's CSRF token differs in each answer: it alone is no change
  function same(a, b) {
    var token = /name="csrfmiddlewaretoken" value="[^"]*"/g;
    return a.replace(token, "") === b.replace(token, "");
  }

  // --- list rows ----------------------------------------------------------------------
  function rows(ids) {
    var list = document.querySelector("[data-live=list][data-rows]");
    var query = Array.from(ids).map(function (id) { return "c=" + id; }).join("&");
    return get(list.dataset.rows + "&" + query).then(function (doc) {
      if (!doc) return;
      var ol = list.querySelector("ol.rows");
      doc.querySelectorAll("[data-gone]").forEach(function (g) {
        var row = ol.querySelector('.row[data-conv="' + g.dataset.gone + '"]');
        if (row) row.remove();
      });
      doc.querySelectorAll('[data-live="rows"] > .row').forEach(function (row) {
        place(list, ol, row);
      });
    });
  }

  // put a row where the list's order says, or leave it out when it belongs to another page
  function place(list, ol, row) {
    var old = ol.querySelector('.row[data-conv="' + row.dataset.conv + '"]');
    if (old && old.dataset.key === row.dataset.key) {
      if (old.innerHTML !== row.innerHTML) { carry(old, row); old.replaceWith(row); }
      return;
    }
    if (old) { carry(old, row); old.remove(); }
    var key = position(row.dataset.key), newest = ["waiting", "due"].indexOf(list.dataset.sort) < 0;
    var shown = ol.querySelectorAll(".row"), before = null;
    for (var i = 0; i < shown.length; i++) {
      if (sooner(key, position(shown[i].dataset.key), newest)) { before = shown[i]; break; }
    }
    if (!before && list.querySelector(".more")) return; // after this page: on a later one
    if (before && before === shown[0] && list.hasAttribute("data-paged")) return; // earlier page
    ol.insertBefore(row, before);
  }
  function position(key) { // "1700000000.123456_42": [seconds, microseconds, id]
    var parts = String(key).split(/[._]/);
    return parts.map(Number);
  }
  function sooner(a, b, newest) {
    for (var i = 0; i < 3; i++) {
      if (a[i] !== b[i]) return newest ? a[i] > b[i] : a[i] < b[i];
    }
    return false;
  }
  // the ticked box, the selected row and the focus stay with a redrawn row
  function carry(old, row) {
    var box = old.querySelector(".pick"), fresh = row.querySelector(".pick");
    if (box && fresh) fresh.checked = box.checked;
    if (old.classList.contains("selected")) row.classList.add("selected");
    if (old.contains(document.activeElement)) {
      setTimeout(function () { var a = row.querySelector("a"); if (a) a.focus(); }, 0);
    }
  }

  // --- the conversation ---------------------------------------------------------------
  function items(w) {
    var line = document.querySelector("[data-live=timeline][data-items]");
    if (!line) return null;
    var query = ["m=" + line.dataset.m, "n=" + line.dataset.n, "e=" + line.dataset.e];
    ["msg", "note", "ev"].forEach(function (name) {
      w[name].forEach(function (id) { query.push(name + "=" + id); });
    });
    var url = line.dataset.items + (line.dataset.items.indexOf("?") < 0 ? "?" : "&");
    return get(url + query.join("&")).then(function (doc) {
      if (!doc) return;
      swap(doc, ["meta", "kind", "actions"]);
      var fresh = doc.querySelector("[data-live=timeline]");
      if (!fresh) return;
      if (line.hasAttribute("data-older")) return; // an older page: "show the newest" instead
      if (fresh.hasAttribute("data-truncated")) { want.page = true; return; }
      grow(line, fresh);
      ["m", "n", "e"].forEach(function (k) {
        line.dataset[k] = Math.max(Number(line.dataset[k] || 0), Number(fresh.dataset[k] || 0));
      });
    });
  }

  // the timeline grows at its end: new items are added and marked, changed ones replaced
  function grow(el, fresh) {
    Array.prototype.slice.call(fresh.children).forEach(function (item) {
      var old = item.id ? document.getElementById(item.id) : null;
      if (old && old.parentNode === el) {
        if (old.dataset.v !== item.dataset.v) old.replaceWith(item);
        return;
      }
      item.classList.add("fresh");
      el.appendChild(item);
    });
  }

  // --- the page, again (access changed, too much missed, pages without fragments) -----
  function page() {
    return get(location.href).then(function (doc) { if (doc) swapPage(doc); });
  }

  function swapPage(doc) {
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var fresh = doc.querySelector('[data-live="' + el.dataset.live + '"]');
      if (!fresh) return;
      if (el.dataset.live === "timeline") {
        merge(el, fresh);
        ["m", "n", "e"].forEach(function (k) {
          el.dataset[k] = Math.max(Number(el.dataset[k] || 0), Number(fresh.dataset[k] || 0));
        });
        return;
      }
      if (same(el.innerHTML, fresh.innerHTML) || typedIn(el)) return;
      var picked = keep(el);
      el.innerHTML = fresh.innerHTML;
      restore(el, picked);
    });
  }

  // a region with a field being typed in or chosen from is left alone (the approval
  // queue's editors, the assignee and status menus)
  function typedIn(el) {
    var fields = el.querySelectorAll("textarea, input[type=text], input:not([type]), select");
    return Array.prototype.some.call(fields, function (f) {
      if (f === document.activeElement) return true;
      if (f.tagName !== "SELECT") return f.value !== f.defaultValue;
      var chosen = Array.prototype.findIndex.call(f.options, function (o) { return o.defaultSelected; });
      return f.selectedIndex !== Math.max(chosen, 0);
    });
  }

  // rows the agent ticked or moved to (j/k) stay so after the list is redrawn
  function keep(el) {
    var picked = {checked: [], selected: null};
    el.querySelectorAll(".row .pick:checked").forEach(function (b) { picked.checked.push(b.value); });
    var sel = el.querySelector(".row.selected");
    if (sel) picked.selected = sel.dataset.conv;
    return picked;
  }
  function restore(el, picked) {
    picked.checked.forEach(function (v) {
      var box = el.querySelector('.row .pick[value="' + v + '"]');
      if (box) box.checked = true;
    });
    if (picked.selected) {
      var row = el.querySelector('.row[data-conv="' + picked.selected + '"]');
      if (row) row.classList.add("selected");
    }
  }

  // the whole timeline fetched again: new cards are added in order, changed ones replaced
  function merge(el, fresh) {
    var previous = null;
    Array.prototype.slice.call(fresh.children).forEach(function (item) {
      var old = item.id ? document.getElementById(item.id) : null;
      if (old && old.parentNode === el) {
        if (old.dataset.v !== item.dataset.v) { old.replaceWith(item); old = item; }
        previous = old;
        return;
      }
      item.classList.add("fresh");
      if (previous && previous.nextSibling) el.insertBefore(item, previous.nextSibling);
      else if (previous) el.appendChild(item);
      else el.insertBefore(item, el.firstChild);
      previous = item;
    });
  }

  // --- browser notifications ----------------------------------------------------------
  function pop(id) {
    if (!window.Notification || Notification.permission !== "granted") return;
    if (!document.hidden && document.hasFocus()) return; // the bell on screen says it already
    fetch("/notifications/" + id + ".json", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (n) {
        if (!n) return;
        var shown = new Notification(n.title, {body: n.body, tag: "madoguchi-" + id});
        shown.onclick = function () { window.focus(); location.href = n.url; };
      });
  }
  var ask = document.getElementById("browser-notify");
  if (ask && window.Notification) {
    var told = document.querySelector(".browser-notify-state");
    var show = function () {
      ask.hidden = Notification.permission !== "default";
      if (Notification.permission === "granted") told.textContent = ask.dataset.on;
      if (Notification.permission === "denied") told.textContent = ask.dataset.blocked;
    };
    ask.addEventListener("click", function () { Notification.requestPermission().then(show); });
    show();
  }

  // --- replying -----------------------------------------------------------------------
  document.addEventListener("input", function (ev) {
    var form = ev.target.closest && ev.target.closest("form.composer");
    if (!form || !conversation) return;
    var text = form.querySelector("[name=text]");
    var rich = form.querySelector(".rich");
    var typed = (text && text.value.trim()) || (rich && !rich.hidden && rich.textContent.trim());
    var next = typed ? "replying" : "viewing";
    if (next !== state) { state = next; say(); }
  });

  connect();
})();
