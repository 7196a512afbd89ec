// Draws the Planescope report's charts from the JSON embedded in the page (id "planescope-report-data").
// Runs under a strict CSP: no inline handlers, no eval; Chart.js is inlined before this script.
(function () {
  'use strict';
  var holder = document.getElementById('planescope-report-data');
  if (!holder || typeof Chart === 'undefined') return;
  var report = JSON.parse(holder.textContent || '{}');
  var css = getComputedStyle(document.documentElement);
  var CONTROL = css.getPropertyValue('--ps-control').trim() || '#0072b2';
  var DATA = css.getPropertyValue('--ps-data').trim() || '#e69f00';
  var FG = css.getPropertyValue('--ps-fg').trim() || '#1f2328';
  Chart.defaults.color = FG;
  Chart.defaults.animation = false;
  var names = report.components.map(function (c) { return c.name; });

  function draw(id, type, datasets, options) {
    var canvas = document.getElementById(id);
    if (!canvas) return;
    new Chart(canvas, {
      type: type,
      data: { labels: names, datasets: datasets },
      options: Object.assign({ responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'bottom' } } }, options || {}),
    });
  }
  function series(label, color, values, stack, pattern) {
    return { label: label, backgroundColor: color, borderColor: color, borderWidth: pattern ? 2 : 0, data: values, stack: stack };
  }
  var pct = function (v) { return v === null ? 0 : v; };

  // Figure 1: static instructions per plane, as % of the component's executed code.
  draw('fig1', 'bar', [
    series('control plane', CONTROL, report.components.map(function (c) { return 100 - c.staticInstructions.dataPercent; }), 's'),
    series('data plane', DATA, report.components.map(function (c) { return c.staticInstructions.dataPercent; }), 's'),
  ], { scales: { x: { stacked: true }, y: { stacked: true, max: 100, title: { display: true, text: '% of static instructions' } } } });

  // Figure 2: functions hosting the top 90% of executed instructions.
  draw('fig2', 'bar', [
    series('control plane', CONTROL, report.components.map(function (c) { return c.functions.control.functions; })),
    series('data plane', DATA, report.components.map(function (c) { return c.functions.data.functions; })),
  ], { scales: { y: { beginAtZero: true, title: { display: true, text: 'functions' } } } });

  // Figure 4: % of dynamic instructions from well-tested libraries.
  draw('fig4', 'bar', [
    series('control plane', CONTROL, report.components.map(function (c) { return pct(c.libraries.controlPercent); })),
    series('data plane', DATA, report.components.map(function (c) { return pct(c.libraries.dataPercent); })),
  ], { scales: { y: { beginAtZero: true, max: 100, title: { display: true, text: '% from libraries' } } } });

  // Figure 5: I/O bytes per plane (log scale: the planes differ by orders of magnitude).
  draw('fig5', 'bar', [
    series('control in', CONTROL, report.components.map(function (c) { return c.io.controlIn || null; })),
    series('control out', CONTROL + '99', report.components.map(function (c) { return c.io.controlOut || null; })),
    series('data in', DATA, report.components.map(function (c) { return c.io.dataIn || null; })),
    series('data out', DATA + '99', report.components.map(function (c) { return c.io.dataOut || null; })),
  ], { scales: { y: { type: 'logarithmic', title: { display: true, text: 'bytes' } } } });
  document.body.setAttribute('data-charts', String(Chart.instances ? Object.keys(Chart.instances).length : 0));
})();
