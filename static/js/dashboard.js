/* Draws the dashboard's charts from the plotly figure JSON embedded in the page. */
(function () {
  "use strict";

  var config = {
    responsive: true,
    displaylogo: false,
    // sendChartToCloud would upload the figures to Plotly Cloud: nothing leaves the ledger for elsewhere.
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines", "sendChartToCloud"],
  };

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
      window.Plotly.newPlot(target, figure.data, figure.layout, config).then(function (chart) {
        target.setAttribute("data-drawn", "true");
        if (linked) {
          target.classList.add("linked");
          followLinks(chart);
        }
      });
    });
  }

  function autosubmit() {
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      form.addEventListener("change", function (event) {
        if (event.target.value && event.target.checkValidity()) {
          form.submit();
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      draw();
      autosubmit();
    });
  } else {
    draw();
    autosubmit();
  }
})();
