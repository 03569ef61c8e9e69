/* Behaviour shared by every page, each part switched on by the markup it needs; no page carries a script of its
   own (the Content-Security-Policy refuses inline scripts and handlers). Without JavaScript every page still
   works: forms keep their submit buttons in <noscript>, progress pages their reload link. */
(function () {
  "use strict";

  // <select data-submit-on-change>: the language switch and list filters send their form on a new choice.
  function submitOnChange() {
    document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
      select.addEventListener("change", function () {
        select.form.submit();
      });
    });
  }

  // <button data-history-back hidden>: error pages offer the previous page when there is one to go back to.
  function historyBack() {
    if (window.history.length < 2) {
      return;
    }
    document.querySelectorAll("[data-history-back]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        window.history.back();
      });
    });
  }

  // The import or export job page, while its job runs: the progress bar follows the job, then the page reloads.
  function followJob() {
    var box = document.getElementById("job");
    var bar = document.getElementById("job-progress");
    if (!box || !bar) {
      return;
    }
    var text = document.getElementById("job-progress-text");
    var label = document.getElementById("job-status-label");
    function poll() {
      fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          return response.json();
        })
        .then(function (job) {
          bar.value = job.progress;
          text.textContent = job.progress + "%";
          label.textContent = job.status_label;
          if (job.finished) {
            window.location.reload();
          } else {
            setTimeout(poll, 1000);
          }
        })
        .catch(function () {
          setTimeout(poll, 3000);
        });
    }
    setTimeout(poll, 500);
  }

  // The totals-runs page, while a run is active: the same, at a slower pace.
  function followRun() {
    var bar = document.getElementById("run-progress");
    if (!bar) {
      return;
    }
    var text = document.getElementById("run-progress-text");
    function poll() {
      fetch(bar.dataset.url, { credentials: "same-origin" })
        .then(function (response) {
          return response.json();
        })
        .then(function (run) {
          bar.value = run.progress;
          text.textContent = run.progress + "% · " + run.status_display;
          if (run.finished) {
            window.location.reload();
          } else {
            setTimeout(poll, 2000);
          }
        })
        .catch(function () {
          setTimeout(poll, 5000);
        });
    }
    setTimeout(poll, 1000);
  }

  // <button data-print hidden>: the case sheet's button that opens the browser's print dialog.
  function printButtons() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        window.print();
      });
    });
  }

  // <span data-count-url hidden>: the navigation's count of work due, fetched once the page is shown so that it
  // never holds the page up; shown when something is due, in the page's language's digits.
  function workListBadge() {
    var badge = document.querySelector("[data-work-list-count][data-count-url]");
    if (!badge) {
      return;
    }
    fetch(badge.dataset.countUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.json() : { count: 0 };
      })
      .then(function (due) {
        if (due.count > 0) {
          badge.textContent = due.count.toLocaleString(document.documentElement.lang || undefined);
          badge.hidden = false;
        }
      })
      .catch(function () {});
  }

  function start() {
    workListBadge();
    printButtons();
    submitOnChange();
    historyBack();
    followJob();
    followRun();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
