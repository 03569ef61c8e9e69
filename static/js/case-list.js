/* The case list's filter panel (templates/students/case_list.html). Without JavaScript it works by submitting:
   the server narrows each area's choices to the one chosen above it, and offers a small area's schools in the
   page itself. With it:
   - choosing a province or prefecture clears the choices below it and sends the form, so the next list of
     choices is the chosen area's;
   - typing in the school field asks the server for matching schools of the user's area (students.views.schools)
     and offers them in the field's list of suggestions. */
(function () {
  "use strict";

  var LEVELS = ["province", "prefecture", "county"];

  function areaCascade() {
    var box = document.querySelector("[data-area-cascade]");
    if (!box) {
      return;
    }
    var form = box.closest("form");
    LEVELS.forEach(function (level, index) {
      var select = form.querySelector("select[name=" + level + "]");
      if (!select || level === "county") {
        return;
      }
      select.addEventListener("change", function () {
        LEVELS.slice(index + 1).forEach(function (below) {
          var child = form.querySelector("select[name=" + below + "]");
          if (child) {
            child.value = "";
          }
        });
        var school = form.querySelector("input[name=school]");
        if (school) {
          school.value = "";
        }
        form.submit();
      });
    });
  }

  function schoolSuggestions() {
    var input = document.querySelector("input[name=school][data-suggest-url]");
    var list = document.getElementById("school-options");
    if (!input || !list) {
      return;
    }
    var form = input.form;
    var timer = null;
    var asked = "";
    function area() {
      var params = new URLSearchParams();
      LEVELS.forEach(function (level) {
        var select = form.querySelector("select[name=" + level + "]");
        if (select && select.value) {
          params.set(level, select.value);
        }
      });
      return params;
    }
    function suggest() {
      var text = input.value.trim();
      if (!text || text === asked || /\(\d{10}\)$/.test(text)) {
        return;
      }
      asked = text;
      var params = area();
      params.set("q", text);
      fetch(input.dataset.suggestUrl + "?" + params.toString(), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.ok ? response.json() : { schools: [] };
        })
        .then(function (answer) {
          if (input.value.trim() !== text) {
            return;
          }
          list.replaceChildren();
          answer.schools.forEach(function (school) {
            var option = document.createElement("option");
            option.value = school.value;
            option.label = school.county;
            list.appendChild(option);
          });
        })
        .catch(function () {});
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(suggest, 250);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    areaCascade();
    schoolSuggestions();
  });
})();
