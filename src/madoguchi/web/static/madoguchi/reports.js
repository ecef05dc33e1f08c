// The reports page's charts (Chart.js, served from our own static files) and its print
// button. The numbers come from the page itself (#report-data), never from elsewhere.
(function () {
  "use strict";
  const print = document.querySelector("[data-print]");
  if (print) print.addEventListener("click", () => window.print());
  const source = document.getElementById("report-data");
  if (!source || typeof window.Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const colors = ["#1f5fbf", "#2e8b57", "#c0392b", "#8e44ad"];
  const common = { animation: false, responsive: true, maintainAspectRatio: false,
    plugins: { legend: { position: "bottom" } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } };
  const daily = document.getElementById("chart-daily");
  if (daily) {
    new window.Chart(daily, {
      type: "bar",
      data: { labels: data.labels, datasets: data.series.map((s, i) => ({ label: s.label, data: s.data, backgroundColor: colors[i] })) },
      options: common,
    });
  }
  const backlog = document.getElementById("chart-backlog");
  if (backlog) {
    new window.Chart(backlog, {
      type: "bar",
      data: { labels: data.backlog.labels, datasets: [{ label: backlog.getAttribute("aria-label"), data: data.backlog.data, backgroundColor: colors[3] }] },
      options: { ...common, plugins: { legend: { display: false } } },
    });
  }
})();
