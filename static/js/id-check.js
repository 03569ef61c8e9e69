/* The resident ID number check (GB 11643) as the user types, with the server's own messages.
   The messages come from the page (#id-messages), translated by the server; the server checks
   again on submit, so this is a help, never the gate. */
(function () {
  "use strict";
  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var CHECK_CHARS = "10X98765432";
  var catalogueNode = document.getElementById("id-messages");
  if (!catalogueNode) return;
  var messages = JSON.parse(catalogueNode.textContent);

  function fill(template, values) {
    return template.replace(/%\((\w+)\)[sd]/g, function (match, key) {
      return key in values ? String(values[key]) : match;
    });
  }

  function pad(number, width) {
    var text = String(number);
    while (text.length < width) text = "0" + text;
    return text;
  }

  function isoDate(year, month, day) {
    return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2);
  }

  function normalize(value) {
    return value.trim().split(" ").join("").toUpperCase();
  }

  function today() {
    var now = new Date();
    return isoDate(now.getFullYear(), now.getMonth() + 1, now.getDate());
  }

  /* {ok: true, birthDate, gender} or {ok: false, code, message}, in the server's order of checks. */
  function check(value) {
    var number = normalize(value);
    if (number.length !== 18) {
      return {ok: false, code: "id_length", message: fill(messages.id_length, {count: number.length})};
    }
    if (!/^[0-9]{17}$/.test(number.slice(0, 17))) {
      return {ok: false, code: "id_digits", message: messages.id_digits};
    }
    if (!/^[0-9X]$/.test(number.charAt(17))) {
      return {ok: false, code: "id_last", message: messages.id_last};
    }
    var year = parseInt(number.slice(6, 10), 10);
    var month = parseInt(number.slice(10, 12), 10);
    var day = parseInt(number.slice(12, 14), 10);
    var date = new Date(Date.UTC(2000, 0, 1));
    date.setUTCFullYear(year, month - 1, day);
    if (year < 1 || date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
      return {ok: false, code: "id_date", message: fill(messages.id_date, {date: number.slice(6, 14)})};
    }
    var born = isoDate(year, month, day);
    if (born > today()) {
      return {ok: false, code: "id_future", message: fill(messages.id_future, {date: born})};
    }
    var sum = 0;
    for (var i = 0; i < 17; i++) sum += parseInt(number.charAt(i), 10) * WEIGHTS[i];
    var expected = CHECK_CHARS.charAt(sum % 11);
    if (number.charAt(17) !== expected) {
      return {
        ok: false,
        code: "id_check",
        message: fill(messages.id_check, {given: number.charAt(17), expected: expected}),
      };
    }
    return {ok: true, birthDate: born, gender: parseInt(number.charAt(16), 10) % 2 ? "M" : "F"};
  }

  function fillIdentity(form, result) {
    var birth = form.querySelector("input[name=birth_date]");
    if (birth && !birth.value) birth.value = result.birthDate;
    var genders = form.querySelectorAll("input[name=gender]");
    var chosen = Array.prototype.some.call(genders, function (radio) { return radio.checked; });
    if (!chosen) {
      Array.prototype.forEach.call(genders, function (radio) { radio.checked = radio.value === result.gender; });
    }
  }

  function attach(input) {
    var field = input.closest(".field") || input.parentNode;
    var feedback = document.createElement("p");
    feedback.className = "live-check";
    feedback.id = input.id + "_check";
    feedback.setAttribute("aria-live", "polite");
    field.appendChild(feedback);
    input.setAttribute("aria-describedby", feedback.id);
    var touched = false;

    function show(final) {
      var value = normalize(input.value);
      Array.prototype.forEach.call(field.querySelectorAll(".field-error"), function (node) { node.hidden = true; });
      field.classList.remove("has-error");
      if (!value) {
        feedback.textContent = "";
        feedback.className = "live-check";
        input.removeAttribute("aria-invalid");
        return;
      }
      var result = check(value);
      // While typing, a number that is merely not finished yet is not an error.
      if (!result.ok && result.code === "id_length" && value.length < 18 && !final) {
        feedback.textContent = "";
        feedback.className = "live-check";
        input.removeAttribute("aria-invalid");
        return;
      }
      if (result.ok) {
        feedback.textContent = "✓";
        feedback.className = "live-check ok";
        input.setAttribute("aria-invalid", "false");
        fillIdentity(input.form, result);
      } else {
        feedback.textContent = result.message;
        feedback.className = "live-check bad";
        input.setAttribute("aria-invalid", "true");
      }
    }

    input.addEventListener("input", function () { show(touched); });
    input.addEventListener("blur", function () { touched = true; show(true); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[data-id-check]"), attach);
})();
