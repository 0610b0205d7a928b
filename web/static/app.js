// patrol: keyboard review, bulk selection and verdicts without reloads.
// Served from the UI's own origin; the CSP forbids inline script.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function typing(e) {
    var t = e.target;
    return e.ctrlKey || e.metaKey || e.altKey ||
      (t && (t.isContentEditable || /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(t.tagName) && t.type !== "checkbox"));
  }

  function postVerdict(ids, status) {
    return fetch("/api/v1/verdicts", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ ids: ids, status: status })
    }).then(function (r) {
      if (!r.ok) { return r.json().then(function (b) { throw new Error(b.error || r.statusText); }); }
      return r.json();
    });
  }

  function queue() {
    var table = document.getElementById("queue");
    var total = document.getElementById("queue-total");
    var selAll = document.getElementById("select-all");
    var selCount = document.getElementById("selected-count");
    var bulk = document.getElementById("bulk");
    var cur = 0;
    function rows() { return table ? Array.prototype.slice.call(table.querySelectorAll("tr.row")) : []; }
    function mark() {
      var rs = rows();
      if (cur >= rs.length) { cur = rs.length - 1; }
      if (cur < 0) { cur = 0; }
      rs.forEach(function (r, i) { r.classList.toggle("current", i === cur); });
      if (rs[cur]) { rs[cur].scrollIntoView({ block: "nearest" }); }
    }
    function selected() {
      return rows().filter(function (r) { return r.querySelector("input[type=checkbox]").checked; });
    }
    function updateSel() {
      var n = selected().length;
      selCount.textContent = n ? n + " selected" : "";
      rows().forEach(function (r) { r.classList.toggle("selected", r.querySelector("input[type=checkbox]").checked); });
    }
    function remove(ids) {
      rows().forEach(function (r) {
        if (ids.indexOf(r.dataset.id) >= 0) { r.parentNode.removeChild(r); }
      });
      if (total) { total.textContent = Math.max(0, parseInt(total.textContent, 10) - ids.length); }
      updateSel();
      if (rows().length === 0) { window.location.reload(); return; }
      mark();
    }
    function decide(rs, status) {
      var ids = rs.map(function (r) { return r.dataset.id; });
      if (!ids.length) { return; }
      rs.forEach(function (r) { r.classList.add("leaving"); });
      postVerdict(ids, status).then(function () { remove(ids); }, function (err) {
        rs.forEach(function (r) { r.classList.remove("leaving"); });
        alert("Could not record the verdict: " + err.message);
      });
    }
    if (selAll) {
      selAll.addEventListener("change", function () {
        rows().forEach(function (r) { r.querySelector("input[type=checkbox]").checked = selAll.checked; });
        updateSel();
      });
    }
    if (table) {
      table.addEventListener("change", updateSel);
      table.addEventListener("click", function (e) {
        var b = e.target.closest("button[name=one]");
        if (b) {
          e.preventDefault();
          var parts = b.value.split(":");
          decide([b.closest("tr.row")], parts[0]);
          return;
        }
        var r = e.target.closest("tr.row");
        if (r) { cur = rows().indexOf(r); mark(); }
      });
    }
    if (bulk) {
      bulk.addEventListener("submit", function (e) {
        var btn = e.submitter;
        if (!btn || btn.name !== "status") { return; }
        e.preventDefault();
        decide(selected(), btn.value);
      });
    }
    document.addEventListener("keydown", function (e) {
      if (typing(e)) { return; }
      var rs = rows();
      switch (e.key) {
        case "j": cur++; mark(); break;
        case "k": cur--; mark(); break;
        case "x": if (rs[cur]) { var cb = rs[cur].querySelector("input[type=checkbox]"); cb.checked = !cb.checked; updateSel(); } break;
        case "c": case "d": {
          var sel = selected();
          decide(sel.length ? sel : (rs[cur] ? [rs[cur]] : []), e.key === "c" ? "confirmed" : "dismissed");
          break;
        }
        case "o": case "Enter": if (rs[cur]) { window.location.href = rs[cur].dataset.href; } break;
        default: return;
      }
      e.preventDefault();
    });
    mark();
  }

  function listingPage() {
    document.addEventListener("keydown", function (e) {
      if (typing(e)) { return; }
      var id = { c: "confirm-btn", d: "dismiss-btn" }[e.key];
      if (id) { e.preventDefault(); document.getElementById(id).click(); }
      if (e.key === "u" || e.key === "Escape") { var b = document.getElementById("back"); if (b) { window.location.href = b.href; } }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var page = document.body.dataset.page;
    if (page === "queue") { queue(); }
    if (page === "listing") { listingPage(); }
  });
})();
