// The staff dashboard's charts: each canvas names the JSON element (json_script)
// holding its chart's type, labels and datasets. No inline script: the CSP
// allows scripts from the site only.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  if (typeof Chart === "undefined") {
    return;
  }
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) {
      return;
    }
    var spec = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: spec.datasets.length > 1 || spec.type === "doughnut" } },
      },
    });
  });
});
