// The sales KPI page's charts (Apache ECharts, vendored): data from the page's JSON endpoint
// (#kpi-charts[data-url]); labels from the element's data-label-* attributes (translated by
// the template). Charts resize with the window (phones: one column of cards).
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
        chart("chart-sources", {
          tooltip: { trigger: "item" },
          series: [{ type: "pie", radius: ["35%", "65%"], data: d.by_source.map(function (s) { return { name: s.label, value: s.count }; }) }]
        });
        var steps = { leads: L.labelLeads, visits: L.labelVisits, test_drives: L.labelTestDrives, orders: L.labelOrders, won: L.labelWon };
        chart("chart-funnel", {
          tooltip: { trigger: "item" },
          series: [{ type: "funnel", sort: "descending", label: { formatter: "{b}: {c}" },
                     data: d.funnel.map(function (s) { return { name: steps[s.key] || s.key, value: s.count }; }) }]
        });
        var lost = d.lost_reasons.slice().reverse();
        chart("chart-lost", {
          tooltip: {}, grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
          xAxis: { type: "value" }, yAxis: { type: "category", data: lost.map(function (r) { return r.label; }) },
          series: [{ type: "bar", data: lost.map(function (r) { return r.count; }) }]
        });
        var axes = [
          ["response_speed", L.labelResponse], ["follow_up", L.labelFollow], ["conversion", L.labelConversion],
          ["gross_profit", L.labelGp], ["satisfaction", L.labelSatisfaction]
        ];
        if (!d.cost_visible) axes = axes.filter(function (a) { return a[0] !== "gross_profit"; });
        chart("chart-radar", {
          tooltip: {}, legend: { bottom: 0, type: "scroll" },
          radar: { indicator: axes.map(function (a) { return { name: a[1], max: 100 }; }), radius: "60%" },
          series: [{ type: "radar", data: d.consultants.map(function (c) {
            return { name: c.name, value: axes.map(function (a) { var v = c.radar[a[0]]; return v === null ? 0 : v; }) };
          }) }]
        });
        root.dataset.loaded = "1";
      })
      .catch(function () { root.dataset.loaded = "error"; });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
