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
  document.addEventListener("htmx:beforeRequest", function () {
    ["problems", "status", "flashes"].forEach(function (id) {
      var box = document.getElementById(id);
      if (box) box.replaceChildren();
    });
  });
})();
