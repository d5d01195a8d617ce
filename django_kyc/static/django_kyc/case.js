/* The review queue and case page: document viewer, reason codes filtered per decision, timeline filters and
   keyboard shortcuts. Plain JavaScript, no build step; every control also works with the mouse, and the page
   works without this file (decisions are checked on the server). */
(function () {
  "use strict";

  /* --- the document viewer: zoom, rotate, PDF pages ------------------------------------------------- */
  function setupViewer(figure) {
    var img = figure.querySelector(".kyc-doc-image");
    if (!img) return;
    var viewport = figure.querySelector(".kyc-viewport");
    var state = {zoom: 1, rotation: 0, page: 1, pages: 0};
    /* A quarter turn swaps the image's width and height: a landscape card fitted to the frame would then stick
       out at the top and bottom, so it is shrunk until the turned image fits (never enlarged). */
    function fit() {
      if (state.rotation % 180 === 0 || !viewport || !img.offsetWidth || !img.offsetHeight) return 1;
      return Math.min(1, viewport.clientWidth / img.offsetHeight, viewport.clientHeight / img.offsetWidth);
    }
    function apply() {
      var scale = Math.round(state.zoom * fit() * 1000) / 1000;
      img.style.transform = "rotate(" + state.rotation + "deg) scale(" + scale + ")";
      figure.dataset.rotation = String(state.rotation);
      figure.dataset.zoom = String(state.zoom);
    }
    img.addEventListener("load", apply);  /* a new PDF page may have another shape */
    function on(selector, handler) {
      var button = figure.querySelector(selector);
      if (button) button.addEventListener("click", handler);
    }
    on(".kyc-zoom-in", function () { state.zoom = Math.min(4, state.zoom * 1.25); apply(); });
    on(".kyc-zoom-out", function () { state.zoom = Math.max(0.25, state.zoom / 1.25); apply(); });
    on(".kyc-rotate", function () { state.rotation = (state.rotation + 90) % 360; apply(); });
    on(".kyc-reset", function () { state.zoom = 1; state.rotation = 0; apply(); });

    if (figure.dataset.kind !== "pdf") return;
    var template = figure.dataset.pageUrl;  /* .../page/1/ */
    var number = figure.querySelector(".kyc-page-number");
    var count = figure.querySelector(".kyc-page-count");
    var prev = figure.querySelector(".kyc-page-prev");
    var next = figure.querySelector(".kyc-page-next");
    function pageUrl(n) { return template.replace(/\/page\/\d+\/$/, "/page/" + n + "/"); }
    function show(n) {
      /* fetched rather than set as src, to read the page count the server sends beside the image */
      fetch(pageUrl(n), {credentials: "same-origin"}).then(function (response) {
        if (!response.ok) throw new Error(response.status);
        state.pages = parseInt(response.headers.get("X-Page-Count") || "1", 10);
        return response.blob();
      }).then(function (blob) {
        var old = img.dataset.objectUrl;
        img.dataset.objectUrl = URL.createObjectURL(blob);
        img.src = img.dataset.objectUrl;
        if (old) URL.revokeObjectURL(old);
        state.page = n;
        number.textContent = String(n);
        count.textContent = String(state.pages);
        prev.disabled = n <= 1;
        next.disabled = n >= state.pages;
        figure.dataset.page = String(n);
      }).catch(function () { count.textContent = "?"; });
    }
    prev.addEventListener("click", function () { if (state.page > 1) show(state.page - 1); });
    next.addEventListener("click", function () { if (state.page < state.pages) show(state.page + 1); });
    show(1);
  }

  /* --- reasons: only those that fit the chosen decision ---------------------------------------------- */
  function filterReasons(select, decision) {
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.value) return;
      var fits = (option.dataset.fits || "").split(" ").indexOf(decision) !== -1;
      option.hidden = !fits;
      option.disabled = !fits;
    });
    var chosen = select.options[select.selectedIndex];
    if (chosen && chosen.disabled) select.value = "";
    select.disabled = !decision;
  }

  function setupReasonForm(form) {
    var reason = form.querySelector(".kyc-reason");
    if (!reason) return;
    var radios = form.querySelectorAll(".kyc-decision-radio");
    var select = form.querySelector(".kyc-decision-select");
    function current() {
      if (select) return select.value;
      var checked = form.querySelector(".kyc-decision-radio:checked");
      return checked ? checked.value : "";
    }
    function refresh() { filterReasons(reason, current()); }
    Array.prototype.forEach.call(radios, function (radio) { radio.addEventListener("change", refresh); });
    if (select) select.addEventListener("change", refresh);
    refresh();
  }

  /* --- the timeline's filters -------------------------------------------------------------------------- */
  function setupTimeline() {
    var kind = document.getElementById("kyc-filter-kind");
    var actor = document.getElementById("kyc-filter-actor");
    if (!kind || !actor) return;
    function refresh() {
      document.querySelectorAll(".kyc-timeline tbody tr[data-kind]").forEach(function (row) {
        var shown = (!kind.value || row.dataset.kind === kind.value) && (!actor.value || row.dataset.actor === actor.value);
        row.hidden = !shown;
      });
    }
    kind.addEventListener("change", refresh);
    actor.addEventListener("change", refresh);
  }

  /* --- keyboard ------------------------------------------------------------------------------------- */
  var DECISION_KEYS = {a: "approve", d: "decline", r: "request_resubmission", t: "retry"};

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function toggleHelp(force) {
    var panel = document.getElementById("kyc-shortcuts");
    var toggle = document.getElementById("kyc-help-toggle");
    if (!panel) return;
    var show = typeof force === "boolean" ? force : panel.hidden;
    panel.hidden = !show;
    if (toggle) toggle.setAttribute("aria-expanded", String(show));
  }

  function chooseDecision(decision) {
    var radio = document.getElementById("kyc-decision-" + decision);
    if (!radio) return false;
    radio.checked = true;
    radio.dispatchEvent(new Event("change", {bubbles: true}));
    var reason = document.getElementById("id_reason_code");
    if (reason) reason.focus();
    return true;
  }

  function onKey(event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      var form = document.getElementById("kyc-decision-form");
      if (form) { event.preventDefault(); form.requestSubmit(); }
      return;
    }
    if (event.key === "Escape") {
      toggleHelp(false);
      if (typing(event.target)) event.target.blur();
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    var key = event.key;
    if (key === "?") { event.preventDefault(); toggleHelp(); return; }
    if (key === "n") {
      var next = document.getElementById("kyc-next-form");
      if (next) { event.preventDefault(); next.requestSubmit(); }
      return;
    }
    if (key === "q") {
      var root = document.querySelector("[data-queue-url]");
      if (root) { event.preventDefault(); window.location.href = root.dataset.queueUrl; }
      return;
    }
    if (key === "c") {
      var comment = document.getElementById("id_comment");
      if (comment) { event.preventDefault(); comment.focus(); }
      return;
    }
    if (DECISION_KEYS[key] && chooseDecision(DECISION_KEYS[key])) event.preventDefault();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".kyc-viewer").forEach(setupViewer);
    document.querySelectorAll(".kyc-reason-form").forEach(setupReasonForm);
    setupTimeline();
    var toggle = document.getElementById("kyc-help-toggle");
    if (toggle) toggle.addEventListener("click", function () { toggleHelp(); });
    var close = document.getElementById("kyc-help-close");
    if (close) close.addEventListener("click", function () { toggleHelp(false); });
    document.addEventListener("keydown", onKey);
  });
})();
