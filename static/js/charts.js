/* Metric charts, drawn with the vendored Chart.js from the JSON the server put in the page
 * (in the data-metrics attribute: data, not code; htmx drops <script> elements from
 * the fragments it swaps in).
 *
 * An element [data-metrics="<the metrics as JSON>"] holds canvases [data-chart-key]; each
 * is drawn with that chart's series. Runs on page load and on every htmx swap (the window
 * switch loads a new fragment). The x axis is linear in milliseconds with our own labels,
 * so no date adapter is needed.
 */
(function () {
  "use strict";

  var COLORS = ["#2457c5", "#e8a33d", "#1f7a4d", "#b42318", "#7048e8", "#0f8a9d"];

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  function timeLabel(ms, spanMs) {
    var d = new Date(ms);
    var hm = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
    if (spanMs > 2 * 24 * 3600 * 1000) {
      return pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + hm;
    }
    return hm;
  }

  function number(value) {
    var abs = Math.abs(value);
    if (abs >= 1e9) return (value / 1e9).toFixed(1) + "G";
    if (abs >= 1e6) return (value / 1e6).toFixed(1) + "M";
    if (abs >= 1e3) return (value / 1e3).toFixed(1) + "k";
    if (abs > 0 && abs < 1) return value.toFixed(3);
    return String(Math.round(value * 10) / 10);
  }

  function draw(container) {
    if (typeof window.Chart === "undefined") return;
    var data = JSON.parse(container.getAttribute("data-metrics") || "{}");
    var start = Date.parse(data.start);
    var end = Date.parse(data.end);
    var charts = {};
    (data.groups || []).forEach(function (group) {
      group.charts.forEach(function (chart) {
        charts[chart.key] = chart;
      });
    });
    container.querySelectorAll("canvas[data-chart-key]").forEach(function (canvas) {
      var chart = charts[canvas.getAttribute("data-chart-key")];
      if (!chart) return;
      var existing = window.Chart.getChart(canvas);
      if (existing) existing.destroy();
      var datasets = chart.series.map(function (series, i) {
        return {
          label: series.label,
          data: series.timestamps.map(function (t, j) {
            return { x: Date.parse(t), y: series.values[j] };
          }),
          borderColor: COLORS[i % COLORS.length],
          backgroundColor: COLORS[i % COLORS.length] + "22",
          borderWidth: 1.5,
          pointRadius: 0,
          tension: 0.2,
          fill: chart.series.length === 1
        };
      });
      new window.Chart(canvas, {
        type: "line",
        data: { datasets: datasets },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          parsing: false,
          normalized: true,
          interaction: { mode: "index", intersect: false },
          plugins: {
            legend: { display: chart.series.length > 1, labels: { boxWidth: 10, font: { size: 11 } } },
            tooltip: {
              callbacks: {
                title: function (items) {
                  return items.length ? timeLabel(items[0].parsed.x, end - start) + " UTC" : "";
                }
              }
            }
          },
          scales: {
            x: {
              type: "linear",
              min: start,
              max: end,
              ticks: {
                maxTicksLimit: 6,
                font: { size: 10 },
                callback: function (value) {
                  return timeLabel(value, end - start);
                }
              },
              grid: { display: false }
            },
            y: {
              beginAtZero: true,
              ticks: { maxTicksLimit: 5, font: { size: 10 }, callback: number }
            }
          }
        }
      });
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-metrics]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawAll(document);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    drawAll(event.target);
  });
})();
