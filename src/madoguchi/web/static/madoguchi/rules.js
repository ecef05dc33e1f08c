// The rule builder (振り分けルール): rows are added and removed in place, each row shows only
// the inputs its field or action needs, and "Try on the last 30 days" fetches its answer
// alone (the server renders rules/_tryout.html) and shows it under the button.
// Without this script every button posts the form and the server answers with the page.
(function () {
  "use strict";
  var form = document.getElementById("rule-form");
  if (!form) return;

  // Hidden inputs are still posted: every row sends every column, so the lists line up.
  function show(el, on) {
    el.hidden = !on;
  }

  function conditionRow(row) {
    var field = row.querySelector(".c-field");
    var op = row.querySelector(".c-op");
    var choice = row.querySelector(".c-choice");
    var chosen = field.options[field.selectedIndex];
    var ops = (chosen && chosen.dataset.ops || "").split(" ");
    var isChoice = ops.indexOf("is") >= 0;
    show(row.querySelector(".c-header"), field.value === "header");
    show(row.querySelector(".c-value"), !isChoice);
    show(choice, isChoice);
    Array.prototype.forEach.call(op.options, function (o) {
      o.hidden = o.disabled = ops.indexOf(o.value) < 0;
    });
    if (op.selectedOptions.length === 0 || op.selectedOptions[0].disabled) {
      var first = Array.prototype.find.call(op.options, function (o) { return !o.disabled; });
      if (first) op.value = first.value;
    }
    Array.prototype.forEach.call(choice.options, function (o) {
      o.hidden = o.disabled = o.dataset.field !== field.value;
    });
    if (isChoice && (choice.selectedOptions.length === 0 || choice.selectedOptions[0].disabled)) {
      var firstChoice = Array.prototype.find.call(choice.options, function (o) {
        return !o.disabled;
      });
      if (firstChoice) choice.value = firstChoice.value;
    }
  }

  function actionRow(row) {
    var type = row.querySelector(".a-type").value;
    row.querySelectorAll(".a-param").forEach(function (el) {
      show(el, (el.dataset.for || "").split(" ").indexOf(type) >= 0);
    });
  }

  function refresh(row) {
    if (row.classList.contains("condition")) conditionRow(row);
    else if (row.classList.contains("action")) actionRow(row);
  }

  form.querySelectorAll("li.rule-row").forEach(refresh);

  form.addEventListener("change", function (ev) {
    var row = ev.target.closest("li.rule-row");
    if (row) refresh(row);
  });

  form.addEventListener("click", function (ev) {
    var button = ev.target.closest("button");
    if (!button || !form.contains(button)) return;
    if (button.name === "add") {
      var list = document.getElementById(button.dataset.rows);
      var template = document.getElementById(button.dataset.template);
      if (!list || !template) return;
      ev.preventDefault();
      if (list.children.length >= Number(list.dataset.max || 99)) return;
      var row = template.content.firstElementChild.cloneNode(true);
      list.appendChild(row);
      refresh(row);
      var first = row.querySelector("select, input");
      if (first) first.focus();
    } else if (button.name === "remove") {
      var gone = button.closest("li.rule-row");
      if (!gone) return;
      ev.preventDefault();
      var next = gone.nextElementSibling || gone.previousElementSibling;
      gone.remove();
      var focus = next ? next.querySelector("select, input") : null;
      if (focus) focus.focus();
    } else if (button.name === "tryout") {
      tryout(ev, button);
    }
  });

  function tryout(ev, button) {
    var slot = document.getElementById("tryout-slot");
    if (!slot || !window.fetch) return;
    ev.preventDefault();
    var data = new FormData(form);
    data.append("tryout", "1");
    var label = button.textContent;
    button.disabled = true;
    button.textContent = button.dataset.trying || "…";
    fetch(location.pathname, {method: "POST", body: data, credentials: "same-origin",
                              headers: {"X-Fragment": "tryout"}})
      .then(function (r) {
        if (!r.ok && r.status !== 400) throw new Error(String(r.status));
        return r.text();
      })
      .then(function (html) {
        slot.innerHTML = html;
        button.disabled = false;
        button.textContent = label;
      })
      .catch(function () {
        button.disabled = false;
        button.textContent = label;
        form.requestSubmit(button);  // the whole page, with the answer or the errors
      });
  }
})();
