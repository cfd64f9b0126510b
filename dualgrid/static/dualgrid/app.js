/* dualgrid pages: htmx settings, the grid maps, and a guard against double submits.
   Plain script, no build step; Alpine handles the small toggles inside templates. */
(function () {
  "use strict";

  // --- htmx -------------------------------------------------------------------------------------
  if (window.htmx) {
    // Swap 4xx fragments too (they carry Chinese error messages); never swap 5xx.
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "4..", swap: true, error: true },
      { code: "...", swap: false, error: true },
    ];
  }

  document.addEventListener("htmx:beforeSwap", function (evt) {
    // An expired session answers an htmx request with the login page: load it as a whole page.
    var url = evt.detail.xhr && evt.detail.xhr.responseURL;
    var login = document.body.getAttribute("data-login-url");
    if (url && login && new URL(url).pathname === login) {
      evt.detail.shouldSwap = false;
      window.location.href = url;
    }
  });

  document.addEventListener("htmx:responseError", function (evt) {
    if (evt.detail.xhr.status >= 500) {
      window.alert("系统繁忙，请稍后再试");
    }
  });

  // --- double submit guard ----------------------------------------------------------------------
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (!form.hasAttribute || !form.hasAttribute("data-once")) return;
    if (form.dataset.submitted) {
      evt.preventDefault();
      return;
    }
    form.dataset.submitted = "1";
    // Disable after the browser has collected the form data, so the clicked button still counts.
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        b.disabled = true;
        b.classList.add("is-busy");
      });
    }, 0);
  });

  // --- maps -------------------------------------------------------------------------------------
  var CHINA = [35, 105];

  function ringContains(ring, x, y) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  function polygonContains(rings, x, y) {
    if (!ringContains(rings[0], x, y)) return false;
    for (var k = 1; k < rings.length; k++) if (ringContains(rings[k], x, y)) return false;
    return true;
  }

  function geometryContains(geom, x, y) {
    if (!geom) return false;
    if (geom.type === "Polygon") return polygonContains(geom.coordinates, x, y);
    if (geom.type === "MultiPolygon") {
      return geom.coordinates.some(function (p) { return polygonContains(p, x, y); });
    }
    return false;
  }

  function initMap(el) {
    if (el._dgMap || !window.L) return;
    // No animations: these maps show a place, and a pan or zoom animation still running when the page
    // moves on (or the box is resized) ends in Leaflet on a NaN centre ("Invalid LatLng (NaN, NaN)").
    var map = L.map(el, {
      attributionControl: false, zoomSnap: 0.5,
      zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false, inertia: false
    });
    el._dgMap = map;
    map.setView(CHINA, 4);
    if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);

    var pick = el.hasAttribute("data-pick");
    var latInput = pick ? document.getElementById(el.dataset.latInput) : null;
    var lngInput = pick ? document.getElementById(el.dataset.lngInput) : null;
    var status = el.dataset.status ? document.getElementById(el.dataset.status) : null;
    var field = el.closest(".field") || el.parentElement;
    var highlight = el.dataset.gridCode || "";
    var features = [];
    var marker = null;

    function say(text, kind) {
      if (!status) return;
      status.textContent = text;
      status.className = "map-status" + (kind ? " map-status-" + kind : "");
    }

    function gridAt(latlng) {
      for (var i = 0; i < features.length; i++) {
        if (geometryContains(features[i].geometry, latlng.lng, latlng.lat)) return features[i].properties;
      }
      return null;
    }

    function describe(latlng) {
      if (!pick) return;
      if (!features.length) return say("已标记位置", "ok");
      var grid = gridAt(latlng);
      if (grid) say("已标记位置，所在网格：" + grid.name + (grid.village ? "（" + grid.village + "）" : ""), "ok");
      else say("已标记位置（不在已划分的网格内，将由中心确定承办单位）", "warn");
    }

    function place(latlng, pan) {
      if (!marker) marker = L.marker(latlng).addTo(map);
      else marker.setLatLng(latlng);
      if (pick) {
        latInput.value = latlng.lat.toFixed(6);
        lngInput.value = latlng.lng.toFixed(6);
      }
      describe(latlng);
      if (pan) map.setView(latlng, Math.max(map.getZoom(), 16), { animate: false });
    }

    var start = null;
    if (pick && latInput.value && lngInput.value) start = L.latLng(+latInput.value, +lngInput.value);
    if (el.dataset.lat && el.dataset.lng) start = L.latLng(+el.dataset.lat, +el.dataset.lng);
    if (start) place(start, true);

    function labelsByZoom() {
      el.classList.toggle("labels-hidden", map.getZoom() < 14);
    }
    map.on("zoomend", labelsByZoom);

    fetch(el.dataset.geojson, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { features: [] }; })
      .then(function (data) {
        features = data.features || [];
        var labelled = features.length <= 300;
        var highlighted = null;
        var layer = L.geoJSON(data, {
          style: function (f) {
            var on = highlight && f.properties.code === highlight;
            return { color: on ? "#c0392b" : "#10457f", weight: on ? 2.5 : 1, fillColor: on ? "#e74c3c" : "#2b6cb0", fillOpacity: on ? 0.15 : 0.05 };
          },
          onEachFeature: function (f, l) {
            if (highlight && f.properties.code === highlight) highlighted = l;
            var name = f.properties.name + (f.properties.village ? "（" + f.properties.village + "）" : "");
            if (labelled) l.bindTooltip(f.properties.name, { permanent: true, direction: "center", className: "grid-label" });
            else l.bindTooltip(name, { sticky: true });
          },
        }).addTo(map);
        layer.bringToBack();
        // The page may have moved on while the grids loaded (htmx swapped the map out, or it is hidden):
        // fitting bounds into a 0×0 box makes Leaflet compute a NaN centre. Nothing to frame then. And
        // no animated pan: one still running when the page navigates ends on a NaN centre in Leaflet.
        if (!el.isConnected || !el.clientWidth || !el.clientHeight) return;
        // Leaflet keeps the box size it saw at creation; if the layout was not settled then (0×0), a fit
        // computes a NaN zoom. Re-read it first.
        map.invalidateSize({ pan: false });
        if (highlighted) {
          // Show the whole grid with the point in it, not a close-up of one colour.
          var bounds = highlighted.getBounds();
          if (start) bounds.extend(start);
          map.fitBounds(bounds, { padding: [16, 16], animate: false });
        } else if (start) map.setView(start, 15, { animate: false });
        else if (features.length) map.fitBounds(layer.getBounds(), { padding: [8, 8], animate: false });
        labelsByZoom();
        if (marker) describe(marker.getLatLng());
      })
      .catch(function () { say("网格图层加载失败，仍可在地图上点选或填写地址", "warn"); });

    if (!pick) return;
    map.on("click", function (e) { place(e.latlng, false); });

    var clear = field.querySelector("[data-clear-marker]");
    if (clear) clear.addEventListener("click", function () {
      if (marker) { map.removeLayer(marker); marker = null; }
      latInput.value = lngInput.value = "";
      say("在地图上点击问题所在的位置");
    });

    var locate = field.querySelector("[data-locate]");
    if (locate) locate.addEventListener("click", function () {
      if (!navigator.geolocation || !window.isSecureContext) {
        say("当前页面无法定位（需 HTTPS 访问），请在地图上点选位置", "warn");
        return;
      }
      say("正在定位…");
      navigator.geolocation.getCurrentPosition(
        function (pos) { place(L.latLng(pos.coords.latitude, pos.coords.longitude), true); },
        function (err) {
          say(err.code === 1 ? "您未允许获取位置，请在地图上点选" : "定位失败，请在地图上点选位置", "warn");
        },
        { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
      );
    });
  }

  function initMaps(root) {
    (root || document).querySelectorAll("[data-map]").forEach(initMap);
  }

  document.addEventListener("DOMContentLoaded", function () { initMaps(document); });
  document.addEventListener("htmx:load", function (evt) { initMaps(evt.detail.elt); });
})();
