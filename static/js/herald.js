// The script of every page (the campaign form adds sms.js, the SMS composer): the viewer's
// time zone on a first visit, the client form modal, polls held while keyboard focus is in
// a table, a filter box for long pickers, the cursor on the first field to fix, and framed
// emails as tall as their content. Everything else is htmx attributes.
(function () {
  "use strict";

  // No zone chosen yet: take the browser's, so times read as the viewer's own from the next
  // page on. A zone chosen on the account page (the same cookie) is never replaced; the
  // server ignores a value that is not a known IANA zone.
  if (!/(?:^|;\s*)herald_tz=/.test(document.cookie)) {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && /^[A-Za-z0-9_+\/-]+$/.test(zone)) {
      document.cookie = "herald_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    }
  }

  function modal() {
    var element = document.getElementById("client-modal");
    return element ? bootstrap.Modal.getOrCreateInstance(element) : null;
  }

  // A form loaded into the modal: show it and put the cursor in the first field to fix.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var content = event.detail.target;
    if (content.id !== "client-modal-content") return;
    var element = document.getElementById("client-modal");
    var focusField = function () {
      var field = content.querySelector(".is-invalid, input:not([type=hidden]), select");
      if (field) field.focus();
    };
    if (element.classList.contains("show")) {
      focusField();
    } else {
      // Bootstrap focuses the dialog itself once shown; move on to the field after that.
      element.addEventListener("shown.bs.modal", focusField, { once: true });
      modal().show();
    }
  });

  // Closed: drop the form so its fields do not linger in the page.
  document.addEventListener("hidden.bs.modal", function (event) {
    if (event.target.id !== "client-modal") return;
    document.getElementById("client-modal-content").replaceChildren();
  });

  // The campaign's message table follows a running campaign, but not while keyboard focus is
  // inside it (a refresh would take the focus away). Here, not as an hx-trigger filter,
  // because htmx evaluates those with new Function(), which the CSP forbids.
  // The campaign list's progress follows the sending the same way.
  var refreshed = { messages: "campaign-messages", campaigns: "campaigns-table" };
  document.body.addEventListener("htmx:confirm", function (event) {
    var container = refreshed[event.target.dataset.refresh];
    if (!container) return;
    var table = document.getElementById(container);
    if (table && table.contains(document.activeElement)) event.preventDefault();
  });

  // Saved: close the modal and say so (the table refreshes itself on the same event).
  document.body.addEventListener("clientSaved", function (event) {
    var dialog = modal();
    if (dialog) dialog.hide();
    var region = document.getElementById("messages");
    if (!region) return;
    var alert = document.createElement("div");
    alert.className = "alert alert-success";
    alert.setAttribute("role", "status");
    alert.textContent = event.detail.value;
    region.replaceChildren(alert);
  });
})();

// Forgiving forms: a filter box for long pickers (the time zones), and, after a form
// error, the cursor in the first field to fix.
(function () {
  "use strict";

  function makeSearchable(select) {
    if (select.dataset.searchReady) return;
    select.dataset.searchReady = "1";
    var box = document.createElement("input");
    box.type = "search";
    box.className = "form-control form-control-sm mb-1";
    box.placeholder = select.dataset.searchPlaceholder || "Type to filter…";
    box.setAttribute("aria-label", select.dataset.searchLabel || "Filter the list below");
    box.setAttribute("aria-controls", select.id);
    box.autocomplete = "off";
    select.parentNode.insertBefore(box, select);
    box.addEventListener("input", function () {
      var words = box.value.trim().toLowerCase().replace(/ё/g, "е").replace(/\s+/g, " ").split(" ");
      var first = null;
      select.querySelectorAll("option").forEach(function (option) {
        // data-search: the zone's cities in Russian and English, MSK±N, UTC+N.
        var text = (option.value + " " + option.textContent + " " + (option.dataset.search || ""))
          .toLowerCase().replace(/_/g, " ").replace(/ё/g, "е");
        var match = words.every(function (word) { return text.indexOf(word) !== -1; });
        option.hidden = !match;
        if (match && !first) first = option;
      });
      select.querySelectorAll("optgroup").forEach(function (group) {
        group.hidden = !group.querySelector("option:not([hidden])");
      });
      // The first match becomes the choice, so typing "vladi" and moving on is enough.
      if (first && box.value.trim() && select.selectedOptions[0] && select.selectedOptions[0].hidden) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  function enhance(root) {
    root.querySelectorAll("select[data-searchable]").forEach(makeSearchable);
  }

  function focusFirstInvalid(root) {
    var field = root.querySelector(
      "input.is-invalid, select.is-invalid, textarea.is-invalid, .is-invalid input, .is-invalid select"
    );
    if (field) field.focus();
  }

  // A framed document of our own (the report's email) as tall as its content: the page
  // scrolls, not the frame. Same origin, no script inside (its sandbox allows none).
  function fitFrame(frame) {
    function fit() {
      var doc = frame.contentDocument;
      if (doc && doc.documentElement) {
        frame.style.height = doc.documentElement.scrollHeight + 16 + "px";
      }
    }
    frame.addEventListener("load", fit);
    window.addEventListener("resize", fit);
    document.querySelectorAll('[data-bs-toggle="tab"]').forEach(function (tab) {
      tab.addEventListener("shown.bs.tab", fit);
    });
    fit();
  }

  function ready() {
    var main = document.getElementById("main") || document.body;
    enhance(main);
    focusFirstInvalid(main);
    main.querySelectorAll("iframe[data-fit-content]").forEach(fitFrame);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
  document.body.addEventListener("htmx:afterSwap", function (event) {
    enhance(event.detail.target);
  });
})();
