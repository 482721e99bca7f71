// The seat map Mini App: draws the draft's cabins from GET /app/api/seats, lets the traveller pick one seat per
// passenger on every flight, and confirms with POST /app/api/seats (the server holds the seats atomically and
// moves the chat on). Seat states are refreshed every few seconds; the page never decides who gets a seat.
(function () {
  "use strict";
  var POLL_MS = 4000;
  var $ = function (id) { return document.getElementById(id); };
  var flow = FlyO.query.get("f") || "";
  var view = null;          // the server's last answer
  var chosen = [];          // per segment: seat codes in passenger order (null: not chosen yet)
  var current = 0;          // the segment shown
  var busy = false, finished = false, timer = null, drawnFrom = "";
  // The page's words; English until the first answer brings them in the traveller's language (view.texts).
  var T = {title: "Choose your seats", free: "Free", yours: "Yours", taken: "Taken", legroom: "Extra legroom",
           your_fare: "{cabin} {price} per seat (your fare)", passenger: "Passenger {number}: {seat}",
           choose: "choose a seat", map: "Seat map, {cabin}, {flight}", front: "{cabin} · front of the aircraft",
           exit: "EXIT", seat: "Seat {seat}", window: "window", aisle: "aisle", middle: "middle",
           exit_row: "exit row", state_yours: "yours", state_taken: "taken", state_free: "free",
           confirm: "Confirm seats", confirm_count: "Confirm seats ({done}/{total})", holding: "Holding your seats…",
           freed: "{seat} is free again.", is_taken: "{seat} is taken. Please choose a free seat.",
           all_seated: "Every passenger has a seat. Tap one of the chosen seats to free it first.",
           next_flight: "Now the seats on the next flight.",
           lost: "{seats} was just taken by another traveller. Please choose again.",
           expired: "This page has expired. Open it again from the chat.",
           outdated: "This seat map is out of date. Return to the chat.",
           offline: "FlyO could not be reached. Check your connection; trying again…",
           check: "Please check your seats.", held: "Your seats are held. Return to the chat."};

  function t(key, values) {
    return String(T[key] || key).replace(/\{(\w+)\}/g, function (all, name) {
      return values && name in values ? String(values[name]) : all;
    });
  }

  function localize(texts, lang) {
    Object.keys(texts || {}).forEach(function (key) { T[key] = texts[key]; });
    if (lang) document.documentElement.lang = lang;
    document.title = "FlyO · " + t("title");
    $("title").textContent = t("title");
    var legend = $("legend").querySelectorAll("li");
    ["free", "yours", "taken", "legroom", "exit"].forEach(function (key, i) {
      if (legend[i]) legend[i].lastChild.textContent = t(key);
    });
  }

  function notice(text, kind) { FlyO.say($("notice"), text, kind); }

  function stop(text, kind) {
    finished = true;
    if (timer) clearInterval(timer);
    $("loading").hidden = true;
    notice(text, kind || "error");
    updateConfirm();
  }

  function complete(index) { return chosen[index] && chosen[index].every(function (s) { return s; }); }
  function allComplete() { return view && view.segments.length && view.segments.every(function (_, i) { return complete(i); }); }

  function adopt(fresh, keepChoice) {
    var lost = [];
    fresh.segments.forEach(function (segment, i) {
      var states = {};
      segment.rows.forEach(function (row) { row.seats.forEach(function (s) { states[s[0]] = s[2]; }); });
      var previous = keepChoice && chosen[i] ? chosen[i] : segment.picked.slice();
      chosen[i] = previous.map(function (seat) {
        if (seat && states[seat] === "taken") { lost.push(seat); return null; }
        return seat || null;
      });
      while (chosen[i].length < fresh.passengers) chosen[i].push(null);
    });
    view = fresh;
    localize(fresh.texts, fresh.lang);
    return lost;
  }

  function seatLabel(code, kind, row, state, mine) {
    var parts = [t("seat", {seat: code}), t(kind)];
    if (row.legroom) parts.push(t("legroom").toLowerCase());
    if (row.exit) parts.push(t("exit_row"));
    parts.push(t(mine ? "state_yours" : state === "taken" ? "state_taken" : "state_free"));
    return parts.join(", ");
  }

  function drawTabs() {
    var tabs = $("tabs");
    tabs.textContent = "";
    tabs.hidden = view.segments.length < 2;
    view.segments.forEach(function (segment, i) {
      var tab = document.createElement("button");
      tab.type = "button";
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-selected", String(i === current));
      tab.textContent = segment.origin + " → " + segment.destination + (complete(i) ? " ✓" : "");
      tab.addEventListener("click", function () { current = i; draw(); });
      tabs.appendChild(tab);
    });
  }

  function drawTrip(segment) {
    $("trip").hidden = false;
    $("flight").textContent = segment.flight + " · " + segment.route;
    $("when").textContent = segment.departs + " · " + segment.aircraft;
    $("prices").textContent = segment.classes.map(function (c) {
      return c.chosen ? t("your_fare", {cabin: c.name, price: c.price}) : c.name + " " + c.price;
    }).join(" · ");
    var list = $("passengers");
    list.textContent = "";
    var next = chosen[current].indexOf(null);
    chosen[current].forEach(function (seat, p) {
      var item = document.createElement("li");
      item.textContent = t("passenger", {number: p + 1, seat: seat || t("choose")});
      if (p === next) item.setAttribute("aria-current", "true");
      list.appendChild(item);
    });
  }

  function drawCabin(segment) {
    var cabin = $("cabin");
    cabin.textContent = "";
    cabin.hidden = false;
    cabin.setAttribute("aria-label", t("map", {cabin: segment.cabin_name, flight: segment.flight}));
    var name = document.createElement("p");
    name.className = "cabin-name";
    name.textContent = t("front", {cabin: segment.cabin_name});
    cabin.appendChild(name);
    // Columns: row label | seats of group 1 | aisle | seats of group 2 … | exit marker space on both sides.
    var template = ["1.4em"];
    segment.groups.forEach(function (group, g) {
      if (g) template.push("minmax(6px, 0.45fr)");
      for (var k = 0; k < group.length; k++) template.push("minmax(24px, 1fr)");
    });
    var mine = chosen[current];
    segment.rows.forEach(function (row) {
      var line = document.createElement("div");
      line.className = "row" + (row.wing ? " wing" : "") + (row.legroom ? " legroom" : "");
      line.style.gridTemplateColumns = template.join(" ");
      var label = document.createElement("span");
      label.className = row.exit ? "row-label exit" : "row-label";
      label.textContent = String(row.row);  // an exit row: red, with a mark (the legend says what it means)
      label.setAttribute("aria-hidden", "true");
      line.appendChild(label);
      var at = 0;
      segment.groups.forEach(function (group, g) {
        if (g) { var aisle = document.createElement("span"); aisle.className = "aisle"; line.appendChild(aisle); }
        for (var k = 0; k < group.length; k++, at++) {
          var seat = row.seats[at], code = seat[0], state = seat[2];
          var yours = mine.indexOf(code) >= 0;
          var button = document.createElement("button");
          button.type = "button";
          button.className = "seat" + (row.legroom ? " legroom" : "") + (yours ? " chosen" : state === "taken" ? " taken" : "");
          button.dataset.seat = code;
          button.textContent = yours ? code.replace(/^\d+/, "") : state === "taken" ? "" : code.replace(/^\d+/, "");
          button.setAttribute("aria-label", seatLabel(code, seat[1], row, state, yours));
          button.setAttribute("aria-pressed", String(yours));
          if (state === "taken" && !yours) button.setAttribute("aria-disabled", "true");
          button.addEventListener("click", onSeat);
          line.appendChild(button);
        }
      });
      cabin.appendChild(line);
    });
  }

  function draw() {
    if (!view) return;
    $("loading").hidden = true;
    $("legend").hidden = false;
    drawTabs();
    var segment = view.segments[current];
    drawTrip(segment);
    drawCabin(segment);
    updateConfirm();
  }

  function confirmText() {
    var done = 0, total = 0;
    chosen.forEach(function (seats) { seats.forEach(function (s) { total++; if (s) done++; }); });
    return done === total ? t("confirm") : t("confirm_count", {done: done, total: total});
  }

  function updateConfirm() {
    var ready = !finished && !busy && allComplete();
    var button = $("confirm");
    button.textContent = busy ? t("holding") : confirmText();
    button.disabled = !ready;
    var tg = FlyO.webApp();
    if (tg && tg.MainButton) {
      $("bottom").hidden = true;
      tg.MainButton.setText(busy ? t("holding") : confirmText());
      if (finished) { tg.MainButton.hide(); return; }
      tg.MainButton.show();
      if (ready) tg.MainButton.enable(); else tg.MainButton.disable();
    }
  }

  function onSeat(event) {
    if (finished || busy) return;
    var code = event.currentTarget.dataset.seat;
    var seats = chosen[current];
    var at = seats.indexOf(code);
    if (at >= 0) {
      seats[at] = null;
      notice(t("freed", {seat: code}), "info");
    } else if (event.currentTarget.getAttribute("aria-disabled") === "true") {
      notice(t("is_taken", {seat: code}), "info");
      return;
    } else if (seats.indexOf(null) >= 0) {
      seats[seats.indexOf(null)] = code;
      notice("", "info");
    } else if (seats.length === 1) {
      seats[0] = code;
    } else {
      notice(t("all_seated"), "info");
      return;
    }
    var tg = FlyO.webApp();
    if (tg && tg.HapticFeedback) tg.HapticFeedback.selectionChanged();
    if (complete(current) && at < 0) {
      var next = chosen.findIndex(function (_, i) { return !complete(i); });
      if (next >= 0 && next !== current) { current = next; notice(t("next_flight"), "info"); }
    }
    draw();
    var again = document.querySelector('.seat[data-seat="' + code + '"]');
    if (again && current === chosen.indexOf(seats)) again.focus();
  }

  function refused(result) {
    var message = result.data && result.data.message;
    if (result.status === 401 || result.status === 403) return stop(message || t("expired"));
    if (result.status === 409) return stop(message || t("outdated"), "info");
    notice(message || t("offline"), "error");
  }

  function load(initial) {
    if (finished || busy) return Promise.resolve();
    return FlyO.api("GET", "/app/api/seats?f=" + encodeURIComponent(flow)).then(function (result) {
      if (finished || busy) return;
      if (result.status !== 200 || !result.data) { refused(result); return; }
      var signature = JSON.stringify(result.data);
      if (signature === drawnFrom) return;  // nothing changed: keep the drawing (and the keyboard focus)
      drawnFrom = signature;
      var lost = adopt(result.data, !initial);
      if (lost.length) notice(t("lost", {seats: lost.join(", ")}), "error");
      draw();
    });
  }

  function submit() {
    if (busy || finished || !allComplete()) return;
    busy = true;
    updateConfirm();
    var tg = FlyO.webApp();
    if (tg && tg.MainButton && tg.MainButton.showProgress) tg.MainButton.showProgress();
    FlyO.api("POST", "/app/api/seats", {flow: flow, seats: chosen}).then(function (result) {
      busy = false;
      if (tg && tg.MainButton && tg.MainButton.hideProgress) tg.MainButton.hideProgress();
      var data = result.data || {};
      if (result.status === 200) {
        if (tg && tg.HapticFeedback) tg.HapticFeedback.notificationOccurred("success");
        stop(data.message || t("held"), "ok");
        $("cabin").hidden = true;
        $("legend").hidden = true;
        if (tg && tg.close) setTimeout(function () { tg.close(); }, 1500);
        return;
      }
      if (result.status === 409 && data.error === "taken" && data.map) {
        var lostSeats = (data.taken || []).map(function (t) { return t.seat; });
        adopt(data.map, true);
        chosen.forEach(function (seats) {
          for (var i = 0; i < seats.length; i++) if (lostSeats.indexOf(seats[i]) >= 0) seats[i] = null;
        });
        var first = (data.taken || [])[0];
        if (first) current = first.segment;
        if (tg && tg.HapticFeedback) tg.HapticFeedback.notificationOccurred("error");
        notice(data.message, "error");
        draw();
        lostSeats.forEach(function (code) {
          var seat = document.querySelector('.seat[data-seat="' + code + '"]');
          if (seat) seat.classList.add("lost");
        });
        return;
      }
      if (result.status === 400) { notice(data.message || t("check"), "error"); updateConfirm(); return; }
      refused(result);
      updateConfirm();
    });
  }

  $("confirm").addEventListener("click", submit);
  FlyO.withTelegram(function (tg) {
    if (tg.MainButton) { tg.MainButton.onClick(submit); updateConfirm(); }
  });
  if (!FlyO.initData()) { stop("Open this seat map from the FlyO chat in Telegram."); return; }
  load(true).then(function () { if (!finished) timer = setInterval(function () { load(false); }, POLL_MS); });
})();
