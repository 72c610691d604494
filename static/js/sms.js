// The SMS composer's live counter and preview on the campaign form.
// The rule is messaging/sms.py's: the character tables and part sizes come from the page
// (#sms-config, rendered from Python) and the splitting walk below is the same as measure().
(function () {
  "use strict";

  function setUp() {
    var configElement = document.getElementById("sms-config");
    var composer = document.getElementById("sms-composer");
    if (!configElement || !composer) return;
    var config = JSON.parse(configElement.textContent);
    var basic = new Set(Array.from(config.basic));
    var extended = new Set(Array.from(config.extended));
    var field = document.getElementById(composer.dataset.field);
    if (!field) return;

    function measure(text) {
      var chars = Array.from(text); // code points, as Python counts them
      var gsm = chars.every(function (ch) { return basic.has(ch) || extended.has(ch); });
      var single = gsm ? config.gsm_single : config.ucs_single;
      var multi = gsm ? config.gsm_multi : config.ucs_multi;
      var costs = chars.map(function (ch) {
        if (gsm) return extended.has(ch) ? 2 : 1;
        return ch.codePointAt(0) > 0xffff ? 2 : 1;
      });
      var units = costs.reduce(function (a, b) { return a + b; }, 0);
      var result = {
        characters: chars.length,
        encoding: gsm ? "GSM-7" : "UCS-2",
        units: units,
      };
      if (units <= single) {
        result.parts = chars.length ? 1 : 0;
        result.perPart = single;
        result.remaining = single - units;
        return result;
      }
      var parts = 1;
      var used = 0;
      costs.forEach(function (cost) {
        if (used + cost > multi) {
          parts += 1;
          used = 0;
        }
        used += cost;
      });
      result.parts = parts;
      result.perPart = multi;
      result.remaining = multi - used;
      return result;
    }

    function show(name, value) {
      composer.querySelectorAll('[data-sms="' + name + '"]').forEach(function (el) {
        el.textContent = value;
      });
    }

    function update() {
      var info = measure(field.value);
      show("characters", info.characters);
      show("encoding", info.encoding);
      show("parts", info.parts);
      show("per-part", info.perPart);
      show("remaining", info.remaining);
      show("preview", field.value);
      var nonGsm = [];
      Array.from(field.value).forEach(function (ch) {
        if (!basic.has(ch) && !extended.has(ch) && nonGsm.indexOf(ch) === -1) nonGsm.push(ch);
      });
      show("non-gsm", nonGsm.slice(0, 20).join(" "));
      var because = composer.querySelector('[data-sms="ucs2-because"]');
      if (because) because.hidden = nonGsm.length === 0;
      var tooLong = composer.querySelector('[data-sms="too-long"]');
      if (tooLong) tooLong.hidden = info.parts <= config.max_parts;
      var bubble = composer.querySelector(".sms-bubble");
      if (bubble) bubble.classList.toggle("sms-bubble-empty", !field.value);
    }

    field.addEventListener("input", update);
    update();

    // A personal field's button puts its merge tag where the cursor is.
    composer.querySelectorAll("[data-merge-tag]").forEach(function (button) {
      button.addEventListener("click", function () {
        var tag = button.dataset.mergeTag;
        var start = field.selectionStart == null ? field.value.length : field.selectionStart;
        var end = field.selectionEnd == null ? start : field.selectionEnd;
        field.value = field.value.slice(0, start) + tag + field.value.slice(end);
        field.focus();
        field.setSelectionRange(start + tag.length, start + tag.length);
        field.dispatchEvent(new Event("input", { bubbles: true }));
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
