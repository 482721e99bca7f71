// FlyO's admin dashboard (issue #19): asks /app/api/dashboard for the numbers (with the init data; admins only)
// and shows them: summary tiles, the server's SVG charts, and tables for every number. Data is only ever set as
// text (textContent); the charts are FlyO's own escaped SVG, parsed as XML and imported, never as HTML.
(function () {
  "use strict";
  var F = window.FlyO;
  var $ = function (id) { return document.getElementById(id); };
  var current = 0;  // the latest request: an older answer arriving late is dropped

  function cell(row, text, numeric) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : String(text);
    if (numeric) td.className = "num";
    row.appendChild(td);
    return td;
  }

  function fill(tbodyId, rows, empty) {
    var body = $(tbodyId);
    body.replaceChildren();
    if (!rows.length) {
      var tr = document.createElement("tr");
      var td = cell(tr, empty);
      td.colSpan = body.closest("table").querySelectorAll("thead th").length;
      body.appendChild(tr);
      return;
    }
    var numeric = Array.prototype.map.call(body.closest("table").querySelectorAll("thead th"),
                                           function (th) { return th.classList.contains("num"); });
    rows.forEach(function (values) {
      var tr = document.createElement("tr");
      values.forEach(function (v, i) {
        if (i === 0) {  // the row's name is its header, for screen readers reading a cell
          var th = document.createElement("th");
          th.scope = "row";
          th.textContent = String(v);
          tr.appendChild(th);
        } else {
          cell(tr, v, numeric[i]);
        }
      });
      body.appendChild(tr);
    });
  }

  function chart(id, svgText) {
    var box = $(id);
    box.replaceChildren();
    var doc = new DOMParser().parseFromString(svgText || "", "image/svg+xml");
    if (doc.querySelector("parsererror") || doc.documentElement.nodeName !== "svg") return;
    box.appendChild(document.importNode(doc.documentElement, true));
  }

  function money(list) {
    return list.length ? list.map(function (m) { return m.formatted; }).join(" · ") : "–";
  }

  function percent(value) { return value === null || value === undefined ? "–" : value + "%"; }

  function tile(list, label, value) {
    var box = document.createElement("div");
    box.className = "tile";
    var dt = document.createElement("dt");
    dt.textContent = label;
    var dd = document.createElement("dd");
    dd.textContent = value;
    box.append(dt, dd);
    list.appendChild(box);
  }

  function render(data) {
    $("generated").textContent = "Since " + data.since + " (UTC) · updated " + data.generated_at.replace("T", " ").slice(0, 16) + " UTC";
    var summary = $("summary");
    summary.replaceChildren();
    var funnel = data.funnel;
    tile(summary, "Bookings", String(data.totals.bookings));
    tile(summary, "Paid", String(data.totals.paid));
    tile(summary, "Revenue", money(data.totals.revenue));
    tile(summary, "Searches", String(funnel[0].count));
    chart("chart-bookings", data.charts.bookings);
    chart("chart-revenue", data.charts.revenue);
    chart("chart-funnel", data.charts.funnel);
    chart("chart-load", data.charts.load);
    fill("days-rows", data.per_day.slice().reverse().map(function (d) {
      return [d.day, d.bookings, d.paid, money(d.revenue)];
    }), "No bookings.");
    fill("funnel-rows", funnel.map(function (s) { return [s.step, s.count, percent(s.percent_of_previous)]; }), "–");
    $("load-hint").textContent = "Departures in the next " + data.load.days + " days with a seat sold or held; " +
      "load = seats sold ÷ seats on the aircraft.";
    fill("route-rows", data.load.routes.map(function (r) {
      return [r.origin + " → " + r.destination, r.flights, r.sold, r.held, r.capacity, r.load_percent + "%"];
    }), "No seats sold or held.");
    fill("flight-rows", data.load.flights.map(function (f) {
      return [f.flight_number + " " + f.origin + " → " + f.destination, f.departs_utc.replace("T", " ").slice(0, 16),
              f.sold, f.held, f.capacity, f.load_percent + "%"];
    }), "No seats sold or held.");
    [["inbox-rows", data.health.inbox], ["outbox-rows", data.health.outbox],
     ["attempts-rows", data.health.payment_attempts]].forEach(function (group) {
      fill(group[0], Object.keys(group[1]).map(function (state) { return [state, group[1][state]]; }), "–");
    });
    fill("audit-rows", data.audit.map(function (a) {
      return [a.at.replace("T", " ").slice(0, 16), a.actor, a.action, a.target || "–", a.outcome];
    }), "No admin actions yet.");
  }

  function refuse(status, data) {
    $("content").hidden = true;
    ["summary", "days-rows", "funnel-rows", "route-rows", "flight-rows", "inbox-rows", "outbox-rows",
     "attempts-rows", "audit-rows",
     "chart-bookings", "chart-revenue", "chart-funnel", "chart-load"].forEach(function (id) { $(id).replaceChildren(); });
    $("generated").textContent = "";
    var fallback = status === 403 ? "This page is for FlyO admins." :
      status === 401 ? "This page has expired. Open it again with /dashboard in the FlyO chat." :
      "The dashboard could not load. Please try again.";
    F.say($("notice"), (data && data.message) || fallback, "error");
  }

  function load() {
    var days = $("days").value;
    var mine = ++current;
    $("loading").hidden = false;
    F.api("GET", "/app/api/dashboard?days=" + encodeURIComponent(days)).then(function (answer) {
      if (mine !== current) return;
      $("loading").hidden = true;
      if (answer.status !== 200 || !answer.data) { refuse(answer.status, answer.data); return; }
      F.say($("notice"), "");
      render(answer.data);
      $("content").hidden = false;
    });
  }

  function filename(response) {
    var match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    return match ? match[1] : "flyo-bookings.csv";
  }

  function exportCsv() {
    var status = $("export-status"), button = $("export");
    button.disabled = true;
    F.say(status, "Preparing the CSV…");
    fetch("/app/api/dashboard/bookings.csv?days=" + encodeURIComponent($("days").value),
          {headers: {"Authorization": "tma " + F.initData()}, cache: "no-store"}).then(function (response) {
      if (!response.ok) {
        return response.json().then(function (data) { throw new Error(data && data.message); },
                                    function () { throw new Error(""); });
      }
      return response.blob().then(function (blob) {
        var name = filename(response), link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = name;
        link.hidden = true;
        document.body.appendChild(link);
        link.click();
        setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
        F.say(status, "Downloaded " + name + ".", "ok");
      });
    }).catch(function (error) {
      F.say(status, "Export refused: " + ((error && error.message) || "please try again."), "error");
    }).then(function () { button.disabled = false; });
  }

  $("days").addEventListener("change", load);
  $("export").addEventListener("click", exportCsv);
  F.withTelegram(function (tg) { if (tg.MainButton && tg.MainButton.hide) tg.MainButton.hide(); });
  load();
})();
