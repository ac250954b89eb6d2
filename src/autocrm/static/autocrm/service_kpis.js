// The service KPI page's charts (Apache ECharts, vendored): data from the page's JSON endpoint
// (#kpi-charts[data-url]); labels from the element's data-label-* attributes (translated by
// the template). Charts resize with the window.
(function () {
  "use strict";
  function start() {
    var root = document.getElementById("kpi-charts");
    if (!root || typeof echarts === "undefined") return;
    var L = root.dataset;
    var charts = [];
    function chart(id, option) {
      var el = document.getElementById(id);
      if (!el) return;
      var c = echarts.init(el, null, { renderer: "svg" });
      c.setOption(option);
      charts.push(c);
    }
    fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (d) {
        var visits = d.retention.by_visit;
        chart("chart-retention", {
          tooltip: { trigger: "axis" }, legend: { bottom: 0 },
          grid: { left: 8, right: 16, top: 16, bottom: 32, containLabel: true },
          xAxis: { type: "category", data: visits.map(function (v) { return v.label; }) },
          yAxis: { type: "value" },
          series: [
            { name: L.labelDue, type: "bar", data: visits.map(function (v) { return v.due; }) },
            { name: L.labelReturned, type: "bar", data: visits.map(function (v) { return v.returned; }) }
          ]
        });
        chart("chart-advisors", {
          tooltip: { trigger: "axis" }, legend: { bottom: 0 },
          grid: { left: 8, right: 16, top: 16, bottom: 32, containLabel: true },
          xAxis: { type: "category", data: d.advisors.map(function (a) { return a.name; }) },
          yAxis: [{ type: "value" }, { type: "value", max: 100 }],
          series: [
            { name: L.labelRos, type: "bar", data: d.advisors.map(function (a) { return a.repair_orders; }) },
            { name: L.labelFtf, type: "line", yAxisIndex: 1, data: d.advisors.map(function (a) {
              return a.first_time_fix_rate === null ? null : Math.round(a.first_time_fix_rate * 1000) / 10; }) }
          ]
        });
        root.dataset.loaded = "1";
      })
      .catch(function () { root.dataset.loaded = "error"; });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
