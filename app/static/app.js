// Small page helpers (no inline scripts: the Content-Security-Policy forbids them).
// htmx 2.0.11 is vendored beside this file as htmx.min.js.
(function () {
  function problem(text) {
    var box = document.getElementById("problems");
    if (!box) return;
    var p = document.createElement("p");
    p.className = "flash error";
    p.textContent = text;
    box.replaceChildren(p);
  }
  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr.status;
    if (evt.detail.xhr.getResponseHeader("HX-Retarget")) return;  // the server sent its own message
    var text = {403: "You do not have permission to do this.", 404: "That no longer exists (or is not yours to see).",
                503: "The database is busy; nothing was saved. Try again in a moment."}[status]
      || "The server could not do this (error " + status + "). Nothing was changed; try again or reload the page.";
    problem(text);
  });
  document.addEventListener("htmx:sendError", function () {
    problem("The server could not be reached. Check the connection and try again.");
  });
  // The invoice form asks for fresh fund pickers when the invoice date changes; a fund chosen while
  // that answer was on its way must stay chosen (the answer knew only the choices made before).
  var fundsAtRequest = null;
  document.addEventListener("htmx:beforeRequest", function (evt) {
    ["problems", "status", "flashes"].forEach(function (id) {
      var box = document.getElementById(id);
      if (box) box.replaceChildren();
    });
    if (evt.detail.elt && evt.detail.elt.id === "invoice_date") {
      fundsAtRequest = {};
      document.querySelectorAll(".fund-pick select").forEach(function (s) { fundsAtRequest[s.id] = s.value; });
    }
  });
  // Focus after a swap (WCAG 2.4.3): htmx keeps it on a control whose id comes back; when the
  // control that asked is gone and focus fell to <body>, it goes to the new content's heading, else
  // its first control. Only for requests a focused control made (never for polling or out of band).
  var askedBy = new WeakMap();
  var CONTROLS = "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])";
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var active = document.activeElement;
    if (evt.detail.xhr && active && active !== document.body && evt.detail.elt &&
        (evt.detail.elt === active || evt.detail.elt.contains(active))) askedBy.set(evt.detail.xhr, true);
  });
  document.addEventListener("htmx:afterSettle", function (evt) {
    if (!evt.detail.xhr || !askedBy.get(evt.detail.xhr)) return;
    var active = document.activeElement;
    if (active && active !== document.body) return;
    var root = evt.target;
    if (!root || !root.querySelector || !document.contains(root)) return;
    var heading = root.matches("h1, h2, h3") ? root : root.querySelector("h1, h2, h3");
    var target = heading || root.querySelector(CONTROLS);
    if (!target) return;
    if (target === heading && !heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    target.focus();
  });
  document.addEventListener("htmx:oobBeforeSwap", function (evt) {
    var old = evt.detail.target, fresh = evt.detail.fragment;
    if (!fundsAtRequest || !old || !old.classList || !old.classList.contains("fund-pick") || !fresh) return;
    var before = old.querySelector("select");
    if (!before || !(before.id in fundsAtRequest) || fundsAtRequest[before.id] === before.value) return;
    var select = fresh.querySelector ? fresh.querySelector("select") : null;
    if (!select) return;
    var keep = Array.prototype.find.call(select.options, function (o) { return o.value === before.value; });
    if (!keep) return;
    Array.prototype.forEach.call(select.options, function (o) { o.removeAttribute("selected"); });
    keep.setAttribute("selected", "selected");
  });
})();
