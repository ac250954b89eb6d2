// The voice-of-customer page's charts (Apache ECharts, vendored): data from the page's JSON
// endpoint (#voc-charts[data-url]); labels from the element's data-label-* attributes
// (translated by the template). Charts resize with the window.
(function () {
  "use strict";
  function start() {
    var root = document.getElementById("voc-charts");
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
    function bars(id, rows, color) {
      var list = rows.slice().reverse();
      chart(id, {
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
        grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: list.map(function (p) { return p.label; }) },
        series: [{ type: "bar", color: color, data: list.map(function (p) { return p.count; }) }]
      });
    }
    fetch(root.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (d) {
        var days = d.trend.map(function (b) { return b.start; });
        chart("chart-sentiment", {
          tooltip: { trigger: "axis" }, legend: { bottom: 0 },
          grid: { left: 8, right: 16, top: 16, bottom: 32, containLabel: true },
          xAxis: { type: "category", data: days },
          yAxis: { type: "value", minInterval: 1 },
          series: [
            { name: L.labelPositive, type: "bar", stack: "s", color: "#2fb344", data: d.trend.map(function (b) { return b.positive; }) },
            { name: L.labelNeutral, type: "bar", stack: "s", color: "#adb5bd", data: d.trend.map(function (b) { return b.neutral; }) },
            { name: L.labelNegative, type: "bar", stack: "s", color: "#d63939", data: d.trend.map(function (b) { return b.negative; }) }
          ]
        });
        bars("chart-negative", d.top_negative, "#d63939");
        bars("chart-positive", d.top_positive, "#2fb344");
        chart("chart-phrases", {
          tooltip: { trigger: "axis" }, legend: { bottom: 0, type: "scroll" },
          grid: { left: 8, right: 16, top: 16, bottom: 40, containLabel: true },
          xAxis: { type: "category", data: days },
          yAxis: { type: "value", minInterval: 1 },
          series: d.phrase_trend.map(function (p) {
            return { name: p.label, type: "line", smooth: true, data: p.counts,
                     lineStyle: { type: p.code.slice(-1) === "+" ? "dashed" : "solid" } };
          })
        });
        root.dataset.loaded = "1";
      })
      .catch(function () { root.dataset.loaded = "error"; });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
