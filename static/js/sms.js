// The SMS composer's live counter and preview on the campaign form.
// The rule is messaging/campaigns/sms.py's: the character tables and part sizes come from the page
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

    function toggle(name, visible) {
      composer.querySelectorAll('[data-sms="' + name + '"]').forEach(function (el) {
        el.hidden = !visible;
      });
    }

    var fieldError = document.getElementById("error_1_" + field.id) ||
      (field.parentElement && field.parentElement.querySelector(".invalid-feedback"));
    var typing = false;

    function update() {
      var info = measure(field.value);
      show("characters", info.characters);
      show("encoding", info.encoding);
      show("parts", info.parts);
      show("per-part", info.perPart);
      show("remaining", info.remaining);
      show("preview", field.value);
      // Cyrillic letters are named as such (every letter of a Russian text would be noise);
      // other characters outside GSM-7 (“quotes”, emoji) one by one, as messaging/campaigns/sms.py does.
      var nonGsm = [];
      var cyrillic = false;
      Array.from(field.value).forEach(function (ch) {
        if (basic.has(ch) || extended.has(ch)) return;
        if (ch >= "\u0400" && ch <= "\u04ff") cyrillic = true;
        else if (nonGsm.indexOf(ch) === -1) nonGsm.push(ch);
      });
      show("non-gsm", nonGsm.slice(0, 20).join(" "));
      toggle("cyrillic", cyrillic);
      toggle("and", cyrillic && nonGsm.length > 0);
      toggle("ucs2-because", cyrillic || nonGsm.length > 0);
      var tooLong = info.parts > config.max_parts;
      // Once the text changes, the form's error from the last submit is stale: the live one
      // below says it (one message, not two saying the same).
      if (typing && fieldError) fieldError.hidden = true;
      toggle("too-long", tooLong && !(fieldError && !fieldError.hidden));
      var bubble = composer.querySelector(".sms-bubble");
      if (bubble) bubble.classList.toggle("sms-bubble-empty", !field.value);
    }

    field.addEventListener("input", function () {
      typing = true;
      update();
    });
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
