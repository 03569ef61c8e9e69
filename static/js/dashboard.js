/* Draws the dashboard's charts from the plotly figure JSON embedded in the page. */
(function () {
  "use strict";

  // The page's plotly config (reports.charts.modebar_config: no cloud or share link, the page's language) and the
  // label of the PNG button; pages without one get the same restrictions in English.
  var options = (function () {
    var node = document.getElementById("chart-options");
    return node
      ? JSON.parse(node.textContent)
      : {
          config: {
            responsive: true,
            displaylogo: false,
            showLink: false,
            showSendToCloud: false,
            showEditInChartStudio: false,
            plotlyServerURL: "",
            modeBarButtonsToRemove: ["select2d", "lasso2d", "toggleSpikelines", "sendDataToCloud", "editInChartStudio"],
          },
        };
  })();

  function escapeText(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  // --- Date axes: the y axis fits the days in view, and ticks fall on weeks, months, quarters or years. ---

  var DAY_MS = 24 * 3600 * 1000;

  function toTime(value) {
    if (typeof value === "number") {
      return value;
    }
    var text = String(value);
    return Date.parse(text.length === 10 ? text + "T00:00:00Z" : text.replace(" ", "T") + "Z");
  }

  // The same rule as reports.charts.date_ticks.
  function dateTicks(first, last) {
    var days = (last - first) / DAY_MS;
    if (days <= 62) {
      return { dtick: 7 * DAY_MS, tickformat: "%m-%d" };
    }
    if (days <= 15 * 31) {
      return { dtick: "M1", tickformat: "%Y-%m" };
    }
    if (days <= 4 * 366) {
      return { dtick: "M3", tickformat: "%Y-%m" };
    }
    return { dtick: "M12", tickformat: "%Y" };
  }

  // The highest value drawn between first and last: the lines are steps, so the step in force at `first` counts.
  function highestIn(chart, first, last) {
    var highest = 0;
    chart.data.forEach(function (trace) {
      if (trace.visible === false || trace.visible === "legendonly") {
        return;
      }
      var before = null;
      for (var i = 0; i < trace.x.length; i++) {
        var time = toTime(trace.x[i]);
        var value = trace.y[i];
        if (value === null || value === undefined) {
          continue;
        }
        if (time < first) {
          before = value;
        } else if (time <= last) {
          highest = Math.max(highest, value);
        }
      }
      if (before !== null) {
        highest = Math.max(highest, before);
      }
    });
    return highest;
  }

  function followDateRange(chart) {
    chart.on("plotly_relayout", function (event) {
      var moved = Object.keys(event).some(function (key) {
        return key.indexOf("xaxis.range") === 0 || key === "xaxis.autorange";
      });
      if (!moved) {
        return;
      }
      var range = chart._fullLayout.xaxis.range;
      var first = toTime(range[0]);
      var last = toTime(range[1]);
      var ticks = dateTicks(first, last);
      var update = { "xaxis.dtick": ticks.dtick, "xaxis.tickformat": ticks.tickformat };
      if (event["xaxis.autorange"]) {
        update["yaxis.autorange"] = true;
      } else {
        var highest = highestIn(chart, first, last);
        update["yaxis.range"] = [0, highest > 0 ? highest * 1.08 : 1];
      }
      window.Plotly.relayout(chart, update);
    });
  }

  // --- Saving a chart as PNG, with what it shows written into the image. ---

  function isoDay(time) {
    return new Date(time).toISOString().slice(0, 10);
  }

  // A trend zoomed in is saved with the days in view: in its subtitle and in its file name.
  function exportNames(chart) {
    var meta = chart.dataset;
    var axis = chart._fullLayout && chart._fullLayout.xaxis;
    if (!meta.exportStem || !axis || axis.autorange) {
      return { filename: meta.exportFilename, subtitle: meta.exportSubtitle };
    }
    var first = isoDay(Math.ceil(toTime(axis.range[0]) / DAY_MS) * DAY_MS);
    var last = isoDay(Math.floor(toTime(axis.range[1]) / DAY_MS) * DAY_MS);
    return { filename: meta.exportStem + "-" + first + "-" + last, subtitle: first + " – " + last };
  }

  // The PNG carries what a reader of the file needs: the chart's title and area, its range, and the source.
  function exportPng(chart) {
    var meta = chart.dataset;
    var names = exportNames(chart);
    var layout = JSON.parse(JSON.stringify(chart.layout));
    var margin = layout.margin || {};
    var top = (margin.t || 0) + 64;
    var bottom = (margin.b || 0) + 36;
    layout.margin = Object.assign({}, margin, { t: top, b: bottom });
    layout.title = {
      // Plain text: plotly.js writes <b> as an inline style, which the Content-Security-Policy refuses.
      text: escapeText(meta.exportTitle),
      subtitle: { text: escapeText(names.subtitle), font: { size: 12 } },
      x: 0.01,
      xanchor: "left",
      y: 1,
      yanchor: "top",
      yref: "container",
      pad: { t: 12 },
      font: { size: 15, weight: "bold" },
    };
    layout.annotations = (layout.annotations || []).concat([
      {
        text: escapeText(meta.exportSource),
        xref: "paper",
        yref: "paper",
        x: 0,
        y: 0,
        xanchor: "left",
        yanchor: "top",
        yshift: -(bottom - 22),
        showarrow: false,
        font: { size: 11, color: "#52606d" },
      },
    ]);
    if (layout.xaxis && layout.xaxis.rangeselector) {
      layout.xaxis.rangeselector.visible = false;
    }
    var size = chart._fullLayout || {};
    return window.Plotly.downloadImage(
      { data: chart.data, layout: layout, config: options.config },
      {
        format: "png",
        filename: names.filename,
        width: size.width || 900,
        height: (size.height || 320) + 100,
      }
    );
  }

  function configFor(target) {
    var config = Object.assign({}, options.config);
    if (target.dataset.exportFilename) {
      config.modeBarButtonsToAdd = [
        {
          name: "downloadPng",
          title: options.download || "Download PNG",
          icon: window.Plotly.Icons.camera,
          click: exportPng,
        },
      ];
    }
    return config;
  }

  function followLinks(chart) {
    chart.on("plotly_click", function (event) {
      var point = event.points && event.points[0];
      if (point && point.customdata) {
        window.location.href = point.customdata;
      }
    });
  }

  function draw() {
    if (!window.Plotly) {
      return;
    }
    document.querySelectorAll("script[data-chart]").forEach(function (node) {
      var target = document.getElementById(node.getAttribute("data-chart"));
      if (!target) {
        return;
      }
      var figure = JSON.parse(node.textContent);
      var linked = figure.data.some(function (trace) {
        return (trace.customdata || []).some(Boolean);
      });
      window.Plotly.newPlot(target, figure.data, figure.layout, configFor(target)).then(function (chart) {
        if (figure.layout.xaxis && figure.layout.xaxis.type === "date") {
          followDateRange(chart);
        }
        target.setAttribute("data-drawn", "true");
        if (linked) {
          target.classList.add("linked");
          followLinks(chart);
        }
      });
    });
  }

  // On paper each chart takes the width of the page (static/css/print.css) and comes back after printing.
  var PRINT_WIDTH = 680; // A4's width less its margins, in CSS pixels
  function fitCharts(printing) {
    if (!window.Plotly) {
      return;
    }
    document.querySelectorAll(".js-plotly-plot").forEach(function (chart) {
      if (printing) {
        window.Plotly.relayout(chart, { width: Math.min(chart.offsetWidth, PRINT_WIDTH) });
      } else {
        window.Plotly.relayout(chart, { width: null, autosize: true });
      }
    });
  }
  window.addEventListener("beforeprint", function () {
    fitCharts(true);
  });
  window.addEventListener("afterprint", function () {
    fitCharts(false);
  });
  window.matchMedia("print").addEventListener("change", function (event) {
    fitCharts(event.matches);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
