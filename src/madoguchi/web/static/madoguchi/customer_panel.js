// The customer information of the conversation's side panel: asked once the page has
// loaded, so a slow source never holds the page; the server keeps its time limit.
(function () {
  "use strict";
  const box = document.querySelector("[data-customer-info]");
  if (!box) return;
  fetch(box.dataset.customerInfo, { headers: { "X-Live": "1" }, credentials: "same-origin" })
    .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
    .then((html) => { box.innerHTML = html; box.setAttribute("aria-busy", "false"); })
    .catch(() => {
      box.textContent = box.dataset.failed;
      box.setAttribute("aria-busy", "false");
    });
})();
