// Draws each report table's chart with the vendored Chart.js; a suppressed cell is null, a gap.
document.addEventListener("DOMContentLoaded", function () {
  if (typeof Chart === "undefined") return;
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var data = JSON.parse(canvas.getAttribute("data-chart"));
    new Chart(canvas, {
      type: "bar",
      data: data,
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: canvas.getAttribute("data-unit") } } },
      },
    });
  });
});
