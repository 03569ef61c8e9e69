/* The case page: more visitor rows on demand. Without JavaScript the form still offers three. */
(function () {
  "use strict";
  var button = document.querySelector("[data-add-visitor]");
  if (!button) return;
  var container = document.querySelector("[data-visitor-rows]");
  button.hidden = false;
  button.addEventListener("click", function () {
    var rows = container.querySelectorAll("[data-visitor-row]");
    var last = rows[rows.length - 1];
    var index = rows.length;
    var copy = last.cloneNode(true);
    Array.prototype.forEach.call(copy.querySelectorAll("[name], [id], [for]"), function (node) {
      ["name", "id", "for"].forEach(function (attribute) {
        var value = node.getAttribute(attribute);
        if (value) node.setAttribute(attribute, value.replace(/_\d+$/, "_" + index));
      });
      if (node.tagName === "INPUT") node.value = "";
      if (node.tagName === "SELECT") node.selectedIndex = 0;
    });
    Array.prototype.forEach.call(copy.querySelectorAll(".field-error"), function (node) { node.remove(); });
    Array.prototype.forEach.call(copy.querySelectorAll(".has-error"), function (node) {
      node.classList.remove("has-error");
    });
    container.appendChild(copy);
    var first = copy.querySelector("select, input");
    if (first) first.focus();
  });
})();
