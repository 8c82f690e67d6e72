// Small page helpers (no inline scripts: the Content-Security-Policy forbids them).
// htmx 2.0.11 is vendored beside this file as htmx.min.js.
(function () {
  // The page's sentences in its language, from <script type="application/json" id="js-texts">
  // (templates/_js_texts.html); English when a page has none.
  var TEXTS = {};
  try { TEXTS = JSON.parse((document.getElementById("js-texts") || {}).textContent || "{}"); } catch (e) { TEXTS = {}; }
  function t(key, english, values) {
    var text = TEXTS[key] || english;
    Object.keys(values || {}).forEach(function (name) { text = text.split("%(" + name + ")s").join(values[name]); });
    return text;
  }
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
    var text = {403: t("forbidden", "You do not have permission to do this."),
                404: t("gone", "That no longer exists (or is not yours to see)."),
                503: t("busy", "The database is busy; nothing was saved. Try again in a moment.")}[status]
      || t("failed", "The server could not do this (error %(status)s). Nothing was changed; try again or reload the page.",
           {status: status});
    problem(text);
  });
  document.addEventListener("htmx:sendError", function () {
    problem(t("unreachable", "The server could not be reached. Check the connection and try again."));
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
  // Focus after a swap (WCAG 2.4.3), only for requests a focused control made (never for polling or
  // out of band). htmx keeps it on a control whose id comes back. Otherwise, in this order:
  // - a refused form (a POST answered with errors): its error summary, else its first invalid field;
  // - data-focus-to="<selector>" on the control (or an ancestor): that element (a control, a tab panel,
  //   a message), else its heading or first control;
  // - an inline form closed or done (its Cancel, its submit): the control that opened it;
  // - when focus fell to <body>: the new content's heading, else its first control.
  var askedBy = new WeakMap();
  var openers = {};   // id of a swapped box → the control outside it that filled it last
  var CONTROLS = "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])";
  // The element to focus in ``root``: a control itself; a section or a message named for it (``explicit``:
  // asked by data-focus-to) itself; else its heading, its first control, or (explicit) itself.
  function focusIn(root, explicit) {
    var target = root.matches(CONTROLS) || (explicit && root.matches("section, [tabindex]")) ? root : null;
    target = target || (root.matches("h1, h2, h3") ? root : root.querySelector("h1, h2, h3"));
    target = target || root.querySelector(CONTROLS) || (explicit ? root : null);
    if (!target) return false;
    if (!target.matches(CONTROLS) && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus();
    return document.activeElement === target;
  }
  // ``old`` if still on the page, else the control that replaced it: same id, or same kind, name,
  // value, link and words (a swap gives back new elements).
  function sameControl(old) {
    if (document.contains(old)) return old;
    if (old.id) return document.getElementById(old.id);
    var keys = ["name", "value", "hx-get", "hx-post", "href"];
    return Array.prototype.find.call(document.querySelectorAll(old.tagName), function (el) {
      return el.tabIndex >= 0 && el.textContent === old.textContent && keys.every(function (k) { return el.getAttribute(k) === old.getAttribute(k); });
    }) || null;
  }
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var active = document.activeElement, elt = evt.detail.elt, target = evt.detail.target;
    if (!evt.detail.xhr || !active || active === document.body || !elt ||
        !(elt === active || elt.contains(active))) return;
    var info = {elt: elt, focusTo: elt.closest("[data-focus-to]"), opener: null,
                sort: !!elt.closest("th[aria-sort]"), submit: elt.tagName === "FORM" && evt.detail.requestConfig &&
                evt.detail.requestConfig.verb === "post"};
    if (target && target.id) {
      if (target.contains(elt)) info.opener = openers[target.id] || null;
      else openers[target.id] = elt;
    }
    askedBy.set(evt.detail.xhr, info);
  });
  function moveFocus(root, info) {
    var active = document.activeElement;
    // A refused form (WCAG 3.3.1): whatever htmx focused ([autofocus]), the first thing to fix.
    if (info.submit && root) {
      var invalid = root.querySelector(".error-summary, [aria-invalid=true], .has-error");
      if (invalid && !invalid.matches(".error-summary, " + CONTROLS)) invalid = invalid.querySelector(CONTROLS);
      if (invalid) { invalid.focus(); if (document.activeElement === invalid) return; }
    }
    if (info.focusTo) {
      var to = document.querySelector(info.focusTo.getAttribute("data-focus-to"));
      if (to && focusIn(to, true)) return;
    }
    if (active && active !== document.body) return;
    if (info.opener) {
      var back = sameControl(info.opener);
      if (back) { back.focus(); if (document.activeElement === back) return; }
    }
    if (root) focusIn(root);
  }
  document.addEventListener("htmx:afterSettle", function (evt) {
    var info = evt.detail.xhr && askedBy.get(evt.detail.xhr);
    if (!info) return;
    askedBy.delete(evt.detail.xhr);
    var root = evt.target && evt.target.querySelector && document.contains(evt.target) ? evt.target : null;
    moveFocus(root, info);
    if (root) announceSwap(root, info);   // after the focus moved: what has it is read anyway
  });
  // The page's one polite live region (#announce in the layout) holds the message areas (#status,
  // #flashes: what HTMX answers put there out of band is said as it comes) and #said, where this says
  // what else a swap did: messages shown inside the swapped part, [data-announce] texts, and after a
  // sort the order and the number of rows. Not what has the focus (read anyway).
  var announceTimer = null;
  function announce(text) {
    var box = document.getElementById("said");
    if (!box) return;
    box.textContent = "";   // the same words again are said again
    window.clearTimeout(announceTimer);
    if (text) announceTimer = window.setTimeout(function () { box.textContent = text; }, 100);
  }
  function said(el) {
    var active = document.activeElement;
    return el.closest("#problems, #announce, [role=alert], [aria-live]") ||
      (active && active !== document.body && (active === el || active.contains(el) || el.contains(active)));
  }
  function announceSwap(root, info) {
    var texts = [];
    function add(el) {
      if (!el || said(el)) return;
      var t = (el.getAttribute("data-announce") || el.textContent).replace(/\s+/g, " ").trim();
      if (t && texts.indexOf(t) < 0) texts.push(t);
    }
    if (root.matches("[data-announce]")) add(root);
    root.querySelectorAll(".flash:not([role=alert]), [data-announce]").forEach(add);
    if (info.sort) {
      var th = root.querySelector("th[aria-sort=ascending], th[aria-sort=descending]");
      var head = root.querySelector("thead[data-count]");
      if (th) {
        var name = th.textContent.replace(/[↑↓]/g, "").replace(/\s+/g, " ").trim();
        var sorted = th.getAttribute("aria-sort") === "ascending"
          ? t("sorted_up", "Sorted by %(column)s, ascending.", {column: name})
          : t("sorted_down", "Sorted by %(column)s, descending.", {column: name});
        texts.push(sorted + (head ? " " + head.getAttribute("data-count") + "." : ""));
      }
    }
    announce(texts.join(" "));
  }
  // Dialogs (WCAG 2.1.2, 2.4.3): a dialog[data-modal] comes open in the HTML (readable without this
  // script); here it becomes modal (the page behind inert), Tab and Shift+Tab go round its controls,
  // Escape closes it (the browser's own), and on close the focus goes back to the control that had it.
  var lastOutside = null;   // the last control focused outside any dialog (htmx focuses [autofocus] first)
  document.addEventListener("focusin", function (evt) {
    if (evt.target !== document.body && evt.target.closest && !evt.target.closest("dialog")) lastOutside = evt.target;
  });
  function makeModal(dialog) {
    if (!dialog.showModal || dialog.matches(":modal")) return;
    var active = document.activeElement;
    var opener = active && active !== document.body && !dialog.contains(active) ? active : lastOutside;
    dialog.removeAttribute("open");
    dialog.showModal();
    dialog.addEventListener("close", function () {
      var back = opener && sameControl(opener);
      if (back) back.focus();
    }, {once: true});
  }
  document.addEventListener("htmx:load", function (evt) {
    var elt = evt.detail.elt;
    if (!elt || !elt.querySelectorAll) return;
    if (elt.matches("dialog[data-modal]")) makeModal(elt);
    elt.querySelectorAll("dialog[data-modal]").forEach(makeModal);
  });
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Tab") return;
    var dialog = document.querySelector("dialog:modal");
    if (!dialog) return;
    var items = Array.prototype.filter.call(dialog.querySelectorAll(CONTROLS), function (el) {
      return el.getClientRects().length > 0 && el.tabIndex >= 0;
    });
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1], active = document.activeElement;
    if (evt.shiftKey && (active === first || !dialog.contains(active))) { evt.preventDefault(); last.focus(); }
    else if (!evt.shiftKey && (active === last || !dialog.contains(active))) { evt.preventDefault(); first.focus(); }
  });
  // Escape closes an inline form (its Cancel link, data-cancel) or an open action panel (<details>),
  // and the focus goes back to what opened it (see openers above). A modal dialog closes by itself.
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Escape" || evt.defaultPrevented || document.querySelector("dialog:modal")) return;
    var form = evt.target.closest && evt.target.closest("form");
    var cancel = form && form.querySelector("[data-cancel]");
    if (cancel) { evt.preventDefault(); cancel.focus(); cancel.click(); return; }
    var panel = evt.target.closest && evt.target.closest("details[open]");
    if (panel) { evt.preventDefault(); panel.open = false; panel.querySelector("summary").focus(); }
  });
  // A form that shows what is picked (data-pick-submits): a pick with the mouse shows it at once; a
  // choice moved with the arrow keys (each one a change) waits for Enter or leaving the select, so
  // ArrowDown does not reload the page under the person going through the options (WCAG 3.2.2).
  var keyed = new WeakMap();   // select → its value when the keys began moving it
  var PICK = "form[data-pick-submits] select";
  function pickSubmit(form) { if (form.requestSubmit) form.requestSubmit(); else form.submit(); }
  document.addEventListener("keydown", function (evt) {
    var select = evt.target;
    if (!select.matches || !select.matches(PICK)) return;
    if (evt.key === "Enter") {
      evt.preventDefault();
      keyed.delete(select);
      pickSubmit(select.form);
    } else if (/^(Arrow|Page|Home|End)/.test(evt.key) || (evt.key.length === 1 && evt.key !== " ")) {
      if (!evt.altKey && !keyed.has(select)) keyed.set(select, select.value);
    }
  });
  document.addEventListener("change", function (evt) {
    var field = evt.target;
    if (!field.closest || !field.closest("form[data-pick-submits]")) return;
    if (field.matches(PICK) && keyed.has(field)) return;   // moved by keys: wait
    pickSubmit(field.form);
  });
  document.addEventListener("focusout", function (evt) {
    var select = evt.target;
    if (!select.matches || !select.matches(PICK) || !keyed.has(select)) return;
    var before = keyed.get(select);
    keyed.delete(select);
    if (select.value !== before) pickSubmit(select.form);
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
