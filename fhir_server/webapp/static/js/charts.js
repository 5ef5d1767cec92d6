// Chart.js (vendored, global `Chart`) with the app's look: accessible names, no animation
// (printing and tests read the final picture), colours with enough contrast.

export const COLOURS = {
  child: "#b00060", line: "#1f4e8c", second: "#8a4b00", reference: "#6b6b6b",
  curves: {3: "#b3261e", 15: "#c77700", 50: "#1b7f3b", 85: "#c77700", 97: "#b3261e"},
};

export function canvasFor(id, label) {
  const canvas = document.createElement("canvas");
  canvas.id = id;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", label);
  return canvas;
}

export function lineChart(canvas, {datasets, xTitle, yTitle, xMin, xMax, tooltip}) {
  return new window.Chart(canvas, {
    type: "line",
    data: {datasets},
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: {mode: "nearest", intersect: true},
      scales: {
        x: {type: "linear", min: xMin, max: xMax, title: {display: true, text: xTitle}},
        y: {type: "linear", title: {display: true, text: yTitle}},
      },
      plugins: {
        legend: {position: "bottom", labels: {boxWidth: 14}},
        tooltip: {callbacks: tooltip ? {label: tooltip} : {}},
      },
    },
  });
}
