/* 驾驶舱: ECharts charts from the page's figures (json_script) and the grid warning map (Leaflet). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("cockpit-data").textContent);
  var COLORS = { green: "#43a047", yellow: "#fdd835", orange: "#fb8c00", red: "#e53935" };
  var charts = [];

  function chart(id, option, hrefs) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return;
    var c = echarts.init(el);
    c.setOption(option);
    if (hrefs) {
      c.on("click", function (p) { if (hrefs[p.dataIndex]) window.location.href = hrefs[p.dataIndex]; });
    }
    charts.push(c);
  }

  var grid = { left: 40, right: 16, top: 32, bottom: 28, containLabel: true };
  chart("chart-daily", {
    tooltip: { trigger: "axis" },
    legend: { data: ["受理", "结案"], top: 0 },
    grid: grid,
    xAxis: { type: "category", data: data.daily.map(function (d) { return d.day.slice(5); }) },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: "受理", type: data.daily.length > 45 ? "line" : "bar", data: data.daily.map(function (d) { return d.received; }), itemStyle: { color: "#10457f" }, showSymbol: false },
      { name: "结案", type: "line", data: data.daily.map(function (d) { return d.closed; }), itemStyle: { color: "#1e7b3a" }, showSymbol: false }
    ]
  }, data.daily.map(function (d) { return d.href; }));

  chart("chart-channels", {
    tooltip: { trigger: "item", formatter: "{b}：{c}件（{d}%）" },
    series: [{
      type: "pie", radius: ["35%", "68%"], label: { formatter: "{b}\n{c}" },
      data: data.channels.map(function (r) { return { name: r.name, value: r.received }; })
    }]
  }, data.channels.map(function (r) { return r.href; }));

  function barH(id, rows) {
    var shown = rows.slice().reverse();
    chart(id, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: shown.map(function (r) { return r.name; }), axisLabel: { width: 96, overflow: "truncate" } },
      series: [{ type: "bar", name: "受理", data: shown.map(function (r) { return r.received; }), itemStyle: { color: "#10457f" } }]
    }, shown.map(function (r) { return r.href; }));
  }
  barH("chart-top", data.top_categories);

  if (data.units.length) {
    var unitsEl = document.getElementById("chart-units");
    var crowded = unitsEl && unitsEl.clientWidth / data.units.length < 80;
    chart("chart-units", {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: ["受理", "结案"], top: 0 },
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.units.map(function (u) { return u.name; }), axisLabel: { interval: 0, rotate: crowded ? 35 : 0, width: 90, overflow: "truncate" } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: "受理", type: "bar", data: data.units.map(function (u) { return u.received; }), itemStyle: { color: "#10457f" } },
        { name: "结案", type: "bar", data: data.units.map(function (u) { return u.closed; }), itemStyle: { color: "#1e7b3a" } }
      ]
    }, data.units.map(function (u) { return u.received_href; }));
  }

  // Category tree: a sunburst (inner ring 大类, outer 小类); a click opens the node's cases.
  function sunburstNodes(nodes) {
    return nodes.map(function (n) {
      var item = { name: n.name, value: n.received, href: n.received_href };
      if (n.children.length) item.children = sunburstNodes(n.children);
      return item;
    });
  }
  if (data.category_tree.length && document.getElementById("chart-tree") && window.echarts) {
    var treeChart = echarts.init(document.getElementById("chart-tree"));
    treeChart.setOption({
      tooltip: { formatter: function (p) { return escape(p.name) + "：受理 " + p.value + " 件"; } },
      series: [{
        type: "sunburst", radius: ["12%", "92%"], sort: null, nodeClick: false,
        data: sunburstNodes(data.category_tree),
        // 大类 named on the inner ring (radial, only where the slice is wide enough); 小类 on hover.
        levels: [{}, { r0: "12%", r: "55%", label: { rotate: "radial", minAngle: 14, fontSize: 11, overflow: "truncate", width: 64 } }, { r0: "55%", r: "92%", label: { show: false } }],
        itemStyle: { borderColor: "#fff", borderWidth: 1 }
      }]
    });
    treeChart.on("click", function (p) { if (p.data && p.data.href) window.location.href = p.data.href; });
    charts.push(treeChart);
  }
  document.querySelectorAll("[data-tree]").forEach(function (button) {
    button.addEventListener("click", function () {
      var open = button.dataset.tree === "open";
      document.querySelectorAll("#category-tree details.cat-node").forEach(function (d) { d.open = open; });
    });
  });

  // Departments and grid workers: the ten with the highest 承办量, 承办量 beside 结案.
  function handlers(id, rows) {
    var shown = rows.slice(0, 10).reverse();
    chart(id, {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: ["承办量", "结案"], top: 0 },
      grid: { left: 8, right: 24, top: 28, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: shown.map(function (r) { return r.name; }), axisLabel: { width: 110, overflow: "truncate" } },
      series: [
        { type: "bar", name: "承办量", data: shown.map(function (r) { return r.volume; }), itemStyle: { color: "#10457f" } },
        { type: "bar", name: "结案", data: shown.map(function (r) { return r.closed; }), itemStyle: { color: "#1e7b3a" } }
      ]
    }, shown.map(function (r) { return r.volume_href; }));
  }
  handlers("chart-departments", data.departments.rows);
  handlers("chart-workers", data.workers.rows);

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });

  // --- map -------------------------------------------------------------------------------------
  var mapEl = document.getElementById("cockpit-map");
  if (!mapEl || !window.L) return;
  var map = L.map(mapEl, { attributionControl: false, zoomSnap: 0.25 });
  map.setView([30, 107], 5);
  if (mapEl.dataset.tileUrl) L.tileLayer(mapEl.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
  function escape(s) {
    return String(s).replace(/[&<>"]/g, function (ch) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[ch]; });
  }
  Promise.all([
    fetch(mapEl.dataset.mapUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); }),
    fetch(mapEl.dataset.geojsonUrl).then(function (r) { return r.json(); })
  ]).then(function (res) {
    var states = {};
    var labels = res[0].labels;
    var gridUrl = function (id) { return res[0].grid_url.replace("/0/", "/" + id + "/"); };
    res[0].grids.forEach(function (g) { states[g.id] = g; });
    Object.keys(res[0].counts).forEach(function (k) {
      var el = document.getElementById("count-" + k);
      if (el) el.textContent = res[0].counts[k];
    });
    var features = res[1].features.filter(function (f) { return states[f.properties.id]; });
    var layer = L.geoJSON({ type: "FeatureCollection", features: features }, {
      style: function (f) {
        return { color: "#37474f", weight: 0.8, fillColor: COLORS[states[f.properties.id].level], fillOpacity: 0.7 };
      },
      onEachFeature: function (f, l) {
        var g = states[f.properties.id];
        l.bindTooltip(
          "<b>" + escape(g.name) + "</b><br>" + escape(g.village) + "<br>在办 " + g.open + " 件，超期 " + g.overdue + " 件" + (g.urgent_messages ? "，紧急群消息 " + g.urgent_messages + " 条待处置" : "") + (g.disputes ? "，未化解矛盾纠纷 " + g.disputes + " 件" : "") + (g.overdue_visits ? "，重点人员走访逾期 " + g.overdue_visits + " 人" : "") + "<br>" + escape(labels[g.level]),
          { sticky: true }
        );
        l.on("mouseover", function () { l.setStyle({ weight: 2.5 }); });
        l.on("mouseout", function () { layer.resetStyle(l); });
        l.on("click", function () { window.location.href = gridUrl(g.id); });
      }
    }).addTo(map);
    var box = map.getContainer();
    // A hidden or detached map (the page moved on while the data loaded) has no size to fit into.
    if (features.length && box.clientWidth && box.clientHeight) map.fitBounds(layer.getBounds(), { padding: [8, 8], animate: false });
    else document.getElementById("map-note").textContent = "范围内没有带边界的网格。";
  }).catch(function () {
    document.getElementById("map-note").textContent = "地图数据加载失败，请刷新重试。";
  });
})();
