/* Ladder forms, progressively enhanced (no inline script: the CSP forbids it).
 *
 * - Forms with data-tier-values: parameters carry data-tiers="1 2 3"; only those of the
 *   chosen tier are shown and sent. Changing the tier puts that tier's suggested values
 *   (the JSON in the element named by data-tier-values) into the fields the person has not
 *   touched, or whose value the new tier does not offer.
 * - Inputs with data-confirm-name keep the form's [data-confirm-button] disabled until the
 *   name is typed exactly. The server checks it again.
 */
(function () {
  "use strict";

  function tiersOf(element) {
    return (element.getAttribute("data-tiers") || "").split(/\s+/).filter(Boolean);
  }

  function offered(select, value, tier) {
    if (select.tagName !== "SELECT") return true;
    for (var i = 0; i < select.options.length; i++) {
      var option = select.options[i];
      if (option.value === value) {
        return !option.hasAttribute("data-tiers") || tiersOf(option).indexOf(tier) !== -1;
      }
    }
    return false;
  }

  function setupLadderForm(form) {
    var source = document.getElementById(form.getAttribute("data-tier-values"));
    var tierValues = source ? JSON.parse(source.textContent) : {};
    var touched = {};

    function chosenTier() {
      var checked = form.querySelector('input[name="tier"]:checked');
      return checked ? checked.value : null;
    }

    function show(tier, suggest) {
      form.querySelectorAll("[data-tiers]").forEach(function (element) {
        var on = tiersOf(element).indexOf(tier) !== -1;
        if (element.tagName === "OPTION") {
          element.hidden = !on;
          element.disabled = !on;
        } else if (element.matches("input, select, textarea")) {
          element.disabled = !on;
        } else {
          element.hidden = !on;
        }
      });
      var values = tierValues[tier] || {};
      form.querySelectorAll("[data-param]").forEach(function (input) {
        var name = input.getAttribute("data-param");
        if (!(name in values)) return;
        var keep = touched[name] && offered(input, input.value, tier);
        if ((suggest && !keep) || !offered(input, input.value, tier)) input.value = values[name];
      });
    }

    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.name === "tier") {
        show(target.value, true);
      } else if (target.hasAttribute("data-param")) {
        touched[target.getAttribute("data-param")] = true;
      }
    });
    form.addEventListener("input", function (event) {
      if (event.target.hasAttribute("data-param")) {
        touched[event.target.getAttribute("data-param")] = true;
      }
    });
    var tier = chosenTier();
    if (tier) show(tier, false);
  }

  function setupConfirmation(input) {
    var form = input.form;
    var button = form && form.querySelector("[data-confirm-button]");
    if (!button || button.disabled) return;
    var expected = input.getAttribute("data-confirm-name");
    function check() {
      button.disabled = input.value.trim() !== expected;
    }
    input.addEventListener("input", check);
    check();
  }

  function init() {
    document.querySelectorAll("form[data-tier-values]").forEach(setupLadderForm);
    document.querySelectorAll("input[data-confirm-name]").forEach(setupConfirmation);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
