/* Draws a dashboard's map: the figures from the JSON element the page carries, the boundaries from the static
   GeoJSON file the map names (built by reports.boundaries). Two views (open dropouts, decrease since the
   baseline) switch with the buttons above the map; a click on an area opens its dashboard when it has a link. */
(function () {
  "use strict";

  var config = {
    responsive: true,
    displaylogo: false,
    scrollZoom: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "sendChartToCloud"],
  };

  // plotly.js fetches its own world outlines (from a CDN) for any map with locations, even when the base map is
  // hidden. This page draws only its own boundaries: an empty outline set stands in, and nothing leaves the site.
  function withoutWorldOutlines() {
    var empty = { type: "Topology", objects: {}, arcs: [] };
    var assets = (window.PlotlyGeoAssets = window.PlotlyGeoAssets || {});
    assets.topojson = assets.topojson || {};
    ["world_110m", "world_50m"].forEach(function (name) {
      if (!assets.topojson[name]) {
        assets.topojson[name] = empty;
      }
    });
  }

  function maritimeTrace(geojson) {
    var lines = geojson.maritime;
    if (!lines || lines.type !== "MultiLineString") {
      return null;
    }
    var lon = [];
    var lat = [];
    lines.coordinates.forEach(function (line) {
      line.forEach(function (point) {
        lon.push(point[0]);
        lat.push(point[1]);
      });
      lon.push(null);
      lat.push(null);
    });
    return {
      type: "scattergeo",
      mode: "lines",
      lon: lon,
      lat: lat,
      line: { color: "#9aa5b1", width: 1 },
      hoverinfo: "skip",
    };
  }

  function followLinks(target) {
    target.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      var link = point && point.customdata && point.customdata[0];
      if (link) {
        window.location.href = link;
      }
    });
  }

  function wireViews(target, views) {
    var group = document.querySelector('[data-map-views="' + target.id + '"]');
    if (!group || !views) {
      return;
    }
    var buttons = group.querySelectorAll("button[data-view]");
    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        var index = Number(button.getAttribute("data-view"));
        window.Plotly.restyle(target, { visible: views[index] });
        buttons.forEach(function (other) {
          other.setAttribute("aria-pressed", other === button ? "true" : "false");
        });
        target.parentNode.querySelectorAll("[data-map-legend]").forEach(function (legend) {
          legend.hidden = legend.getAttribute("data-map-legend") !== String(index);
        });
        target.setAttribute("data-view", String(index));
      });
    });
    group.hidden = false;
  }

  function drawMap(node) {
    var target = document.getElementById(node.getAttribute("data-map"));
    if (!target) {
      return;
    }
    var figure = JSON.parse(node.textContent);
    fetch(target.getAttribute("data-geojson"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("boundaries: " + response.status);
        }
        return response.json();
      })
      .then(function (geojson) {
        var views = figure.views;
        figure.data.forEach(function (trace) {
          trace.geojson = geojson;
        });
        var line = maritimeTrace(geojson);
        if (line) {
          figure.data.push(line);
          views = views.map(function (visible) {
            return visible.concat([true]);
          });
        }
        var linked = figure.data.some(function (trace) {
          return (trace.customdata || []).some(function (item) {
            return item && item[0];
          });
        });
        return window.Plotly.newPlot(target, figure.data, figure.layout, config).then(function () {
          target.setAttribute("data-drawn", "true");
          target.setAttribute("data-view", "0");
          if (linked) {
            target.classList.add("linked");
            followLinks(target);
          }
          wireViews(target, views);
        });
      })
      .catch(function (error) {
        target.setAttribute("data-drawn", "failed");
        if (window.console) {
          window.console.error(error);
        }
      });
  }

  function draw() {
    if (!window.Plotly) {
      return;
    }
    withoutWorldOutlines();
    document.querySelectorAll("script[data-map]").forEach(drawMap);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
