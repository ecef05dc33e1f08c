// The workload table follows the team: after events (live.js's "live:event"), at most
// once a second, it asks for the table again and swaps it, unless a choice is open in it.
(function () {
  "use strict";
  const region = document.querySelector("[data-workload-region]");
  if (!region) return;
  let timer = null;
  function refresh() {
    timer = null;
    if (region.contains(document.activeElement) && document.activeElement.tagName === "SELECT") {
      timer = setTimeout(refresh, 1000);
      return;
    }
    fetch(region.dataset.src, { credentials: "same-origin", headers: { "X-Live": "1" } })
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => { if (html) region.innerHTML = html; });
  }
  document.addEventListener("live:event", () => { if (!timer) timer = setTimeout(refresh, 1000); });
})();
