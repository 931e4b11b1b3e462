// codexgov console: draws the charts whose data the page carries (a table
// beside each chart holds the same numbers, for reading without
// JavaScript and for screen readers).
(function () {
  "use strict";
  var palette = ["#0969da", "#1a7f37", "#9a6700", "#a40e26", "#8250df", "#57606a", "#bf3989", "#0a7d8c"];
  function draw(el) {
    var spec;
    try { spec = JSON.parse(el.textContent); } catch (e) { return; }
    var box = document.getElementById(spec.target);
    if (!box || !window.uPlot) { return; }
    var data = [spec.x];
    var series = [{}];
    spec.series.forEach(function (s, i) {
      data.push(s.values);
      series.push({ label: s.label, stroke: palette[i % palette.length], width: 2, points: { show: spec.x.length < 40 } });
    });
    var width = Math.max(320, Math.min(box.clientWidth || 720, 960));
    var opts = {
      title: spec.title,
      width: width,
      height: 260,
      series: series,
      axes: [{}, { size: 70 }],
      scales: { x: { time: true } },
    };
    box.textContent = "";
    box.setAttribute("role", "img");
    box.setAttribute("aria-label", spec.title + " (the table below has the same numbers)");
    new window.uPlot(opts, data, box);
  }
  function all() {
    document.querySelectorAll("script[type='application/json'].chart-data").forEach(draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", all);
  } else {
    all();
  }
})();
