// Live screens (docs/decisions/0003-live-updates.md): one WebSocket per tab to /live.
// Events make the page fetch itself again and swap the parts marked data-live (the rail,
// the tabs, the list, the timeline), never the forms being typed in. Presence ("Sato is
// viewing") is painted on the conversation and on list rows. On reconnect the server
// replays what was missed since the last event id this tab saw.
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
      if (msg.event === "notification.created" && msg.data.to === me) pop(msg.data.notification);
      refresh();
    } else if (msg.type === "presence") {
      presence[msg.conversation] = msg.agents;
      paint();
    } else if (msg.type === "presence_all") {
      presence = msg.items;
      paint();
    } else if (msg.type === "resync" || msg.type === "access") {
      refresh();
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

  // --- the page, again ----------------------------------------------------------------
  function refresh() {
    if (document.hidden) { dirty = true; return; }
    clearTimeout(timer);
    timer = setTimeout(reload, 250);
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && dirty) { dirty = false; refresh(); }
  });

  function reload() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, {credentials: "same-origin", headers: {"X-Live": "1"}})
      .then(function (r) {
        if (r.status === 403 || r.status === 404) { body.classList.add("gone"); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) { if (html) swap(new DOMParser().parseFromString(html, "text/html")); })
      .catch(function () { /* offline: the next event or reconnect tries again */ })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function swap(doc) {
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var fresh = doc.querySelector('[data-live="' + el.dataset.live + '"]');
      if (!fresh) return;
      if (el.dataset.live === "timeline") { merge(el, fresh); return; }
      if (el.innerHTML === fresh.innerHTML || typedIn(el)) return;
      var picked = keep(el);
      el.innerHTML = fresh.innerHTML;
      restore(el, picked);
    });
    var bulk = document.getElementById("bulk");
    if (bulk) bulk.hidden = !document.querySelector(".row");
    paint();
    document.dispatchEvent(new CustomEvent("live:updated"));
  }

  // a region with a field being typed in is left alone (the approval queue's editors)
  function typedIn(el) {
    var fields = el.querySelectorAll("textarea, input[type=text], input:not([type])");
    return Array.prototype.some.call(fields, function (f) {
      return f === document.activeElement || f.value !== f.defaultValue;
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

  // the timeline grows in place: new cards are added and marked, changed ones replaced
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
