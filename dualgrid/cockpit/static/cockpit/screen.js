/* 指挥大屏: polls its JSON every 30 s (?refresh=<seconds> to change it). A failed round keeps the last
   data on screen, says since when in a banner and retries with backoff (1, 2, 4 … s, at most the
   refresh interval); the first good round hides the banner again. No reload, ever. */
(function () {
  "use strict";
  var body = document.querySelector(".screen-body");
  var LABELLED_GRIDS = 60;
  var COLORS = { green: "#43a047", yellow: "#fdd835", orange: "#fb8c00", red: "#e53935" };
  var requested = parseFloat(new URLSearchParams(window.location.search).get("refresh"));
  var INTERVAL = (requested > 0 ? requested : 30) * 1000;
  var banner = document.getElementById("screen-offline");
  var lastGood = null;
  var failures = 0;

  // The wall shows the platform's time zone (settings.TIME_ZONE), whatever the display PC is set to.
  var TZ = document.body.getAttribute("data-tz") || undefined;
  var clock = new Intl.DateTimeFormat("zh-CN", {
    timeZone: TZ, year: "numeric", month: "numeric", day: "numeric",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
  });
  function local(d) {
    var out = {};
    clock.formatToParts(d).forEach(function (p) { out[p.type] = p.value; });
    return out;
  }
  function hhmm(d) { var t = local(d); return t.hour + ":" + t.minute; }
  function escape(s) {
    return String(s).replace(/[&<>"]/g, function (ch) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[ch]; });
  }
  function setText(id, text) { var el = document.getElementById(id); if (el) el.textContent = text; }

  function tick() {
    var t = local(new Date());
    setText("screen-date", t.year + "年" + t.month + "月" + t.day + "日");
    setText("screen-time", t.hour + ":" + t.minute + ":" + t.second);
  }
  tick();
  setInterval(tick, 1000);

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        // The session ended (SESSION_COOKIE_AGE): the JSON came back as the login page.
        if (r.redirected && r.url.indexOf("/login/") !== -1) throw new Error("login");
        if (!r.ok || !/json/.test(r.headers.get("Content-Type") || "")) throw new Error("HTTP " + r.status);
        return r.json();
      });
  }

  // --- map ---------------------------------------------------------------------------------------
  var map = null, layer = null, features = null, fitted = false;
  var mapEl = document.getElementById("screen-map");
  if (window.L && mapEl) {
    map = L.map(mapEl, { attributionControl: false, zoomControl: false, zoomSnap: 0.25 });
    map.setView([30, 107], 5);
    if (body.dataset.tileUrl) L.tileLayer(body.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
  }
  function loadShapes() {
    if (features || !map) return Promise.resolve();
    return getJSON(body.dataset.geojsonUrl).then(function (g) { features = g.features; });
  }
  function drawMap(state) {
    Object.keys(state.counts).forEach(function (k) { setText("count-" + k, state.counts[k]); });
    if (!map || !features) return;
    var states = {};
    state.grids.forEach(function (g) { states[g.id] = g; });
    if (layer) map.removeLayer(layer);
    layer = L.geoJSON({ type: "FeatureCollection", features: features.filter(function (f) { return states[f.properties.id]; }) }, {
      style: function (f) {
        return { color: "#0b1a2e", weight: 1, fillColor: COLORS[states[f.properties.id].level], fillOpacity: 0.8 };
      },
      onEachFeature: function (f, l) {
        var g = states[f.properties.id];
        // A wall shows a district's few dozen grids by name; a city's thousands only by colour.
        if (state.grids.length <= LABELLED_GRIDS) {
          l.bindTooltip(escape(g.name) + "<br>在办 " + g.open + " · 超期 " + g.overdue, { permanent: true, direction: "center", className: "grid-label" });
        } else {
          l.bindTooltip("<b>" + escape(g.name) + "</b><br>" + escape(g.village) + "<br>在办 " + g.open + " 件，超期 " + g.overdue + " 件" + (g.urgent_messages ? "，紧急群消息 " + g.urgent_messages + " 条待处置" : "") + (g.disputes ? "，未化解矛盾纠纷 " + g.disputes + " 件" : "") + (g.overdue_visits ? "，重点人员走访逾期 " + g.overdue_visits + " 人" : "") + "<br>" + escape(state.labels[g.level]), { sticky: true });
        }
      }
    }).addTo(map);
    var box = map.getContainer();
    if (!fitted && layer.getLayers().length && box.clientWidth && box.clientHeight) {
      map.fitBounds(layer.getBounds(), { padding: [12, 12], animate: false });
      fitted = true;
    }
  }

  // --- figures, ranking, feed --------------------------------------------------------------------
  function drawSummary(s) {
    setText("today-received", s.today.received.toLocaleString("zh-CN"));
    setText("today-closed", s.today.closed.toLocaleString("zh-CN"));
    setText("today-completion", s.today.completion);
    setText("month-completion", s.today.month_completion);
    setText("today-overdue", s.today.overdue.toLocaleString("zh-CN"));
    document.getElementById("today-overdue").parentNode.classList.toggle("stat-alert", s.today.overdue > 0);
    setText("ranking-title", s.ranking.label);
    setText(
      "ranking-note",
      "受理量少于 " + s.ranking.min_volume + " 件的单位列出但不排名。结案率按本月结案数计（含以前月份受理的事件），清理积案时可超过 100%。"
    );
    document.getElementById("ranking-rows").innerHTML = s.ranking.rows.slice(0, 14).map(function (r) {
      var cls = r.rank && r.rank <= 3 ? ' class="top' + r.rank + '"' : "";
      var rank = r.rank ? "<b>" + r.rank + "</b>" : '<span class="unranked">—</span>';
      var value = r.under_sample ? '<span class="unranked">样本不足</span>' : escape(r.value);
      return "<tr" + cls + '><td class="rank">' + rank + "</td><td>" + escape(r.name) + '</td><td class="num">' + escape(r.received) + '</td><td class="num">' + value + "</td></tr>";
    }).join("") || '<tr><td colspan="4" class="unranked">范围内没有下级单位</td></tr>';
  }
  function drawFeed(f) {
    var list = document.getElementById("feed");
    list.innerHTML = f.cases.map(function (c) {
      return '<li class="' + (c.urgent ? "urgent" : "") + '" data-case="' + c.id + '">' +
        '<div class="feed-top">' + (c.urgent ? '<span class="tag">紧急</span>' : "") +
        "<span>" + escape(c.number) + "</span><span>" + escape(c.status) + "</span>" +
        (c.overdue ? '<span class="late">已超期</span>' : "") + "<time>" + escape(c.time) + "</time></div>" +
        '<div class="feed-title">' + escape(c.title) + "</div>" +
        '<div class="feed-meta">' + escape(c.category) + " · " + escape(c.place) + (c.phone ? " · " + escape(c.phone) : "") + "</div></li>";
    }).join("") || '<li class="feed-empty">暂无事件</li>';
    // Only whole cards: drop the ones the panel cuts off.
    var bottom = list.getBoundingClientRect().bottom;
    Array.prototype.forEach.call(list.children, function (li) {
      li.hidden = li.getBoundingClientRect().bottom > bottom;
    });
  }

  function refresh() {
    Promise.all([
      getJSON(body.dataset.summaryUrl),
      getJSON(body.dataset.feedUrl),
      getJSON(body.dataset.mapUrl),
      loadShapes()
    ]).then(function (res) {
      drawSummary(res[0]);
      drawFeed(res[1]);
      drawMap(res[2]);
      lastGood = new Date();
      failures = 0;
      banner.hidden = true;
      document.body.dataset.state = "live";
      setTimeout(refresh, INTERVAL);
    }).catch(function (error) {
      failures += 1;
      var since = lastGood ? "显示的是 " + hhmm(lastGood) + " 的数据" : "暂无数据";
      banner.textContent = error && error.message === "login"
        ? "登录已过期，" + since + "，请重新登录"
        : "连接中断，" + since + "，正在重试…";
      banner.hidden = false;
      document.body.dataset.state = "offline";
      setTimeout(refresh, Math.min(INTERVAL, 1000 * Math.pow(2, failures - 1)));
    });
  }
  refresh();
})();
