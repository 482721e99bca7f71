// FlyO Mini App plumbing shared by every page: Telegram's init data, its theme, and API calls that carry it.
// Works with Telegram's telegram-web-app.js (window.Telegram.WebApp) and without it: Telegram also puts the
// init data and theme in the URL fragment (#tgWebAppData=…&tgWebAppThemeParams=…), which is read first.
(function () {
  "use strict";
  var fragment = new URLSearchParams(location.hash.slice(1));
  var HEX = /^#[0-9a-fA-F]{3,8}$/;

  function webApp() {
    var tg = window.Telegram && window.Telegram.WebApp;
    return tg && typeof tg === "object" ? tg : null;
  }

  function initData() {
    var tg = webApp();
    return (tg && tg.initData) || fragment.get("tgWebAppData") || "";
  }

  function themeParams() {
    var tg = webApp();
    if (tg && tg.themeParams && Object.keys(tg.themeParams).length) return tg.themeParams;
    try { return JSON.parse(fragment.get("tgWebAppThemeParams") || "{}") || {}; } catch (e) { return {}; }
  }

  function luminance(hex) {
    var h = hex.replace("#", "");
    if (h.length === 3) h = h.split("").map(function (c) { return c + c; }).join("");
    var n = parseInt(h.slice(0, 6), 16);
    return (0.2126 * (n >> 16 & 255) + 0.7152 * (n >> 8 & 255) + 0.0722 * (n & 255)) / 255;
  }

  // Telegram's colours as CSS variables (the names telegram-web-app.js itself sets), light or dark.
  function applyTheme() {
    var params = themeParams(), root = document.documentElement;
    Object.keys(params).forEach(function (key) {
      var value = String(params[key]);
      if (HEX.test(value)) root.style.setProperty("--tg-theme-" + key.replace(/_/g, "-"), value);
    });
    var tg = webApp(), scheme = tg && tg.colorScheme;
    if (!scheme && params.bg_color && HEX.test(params.bg_color)) scheme = luminance(params.bg_color) < 0.5 ? "dark" : "light";
    if (!scheme && window.matchMedia) scheme = window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
    root.dataset.scheme = scheme || "light";
  }

  // A JSON call with the init data; resolves to {status, data} (data null when the body is not JSON).
  function api(method, path, body) {
    var options = {method: method, headers: {"Authorization": "tma " + initData()}, cache: "no-store"};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.json().then(function (data) { return {status: response.status, data: data}; },
                                  function () { return {status: response.status, data: null}; });
    }, function () { return {status: 0, data: null}; });
  }

  // Run `then` now if Telegram's script is there, and again once it loads (it may arrive after our script).
  function withTelegram(then) {
    if (webApp()) { then(webApp()); return; }
    var script = document.querySelector("script[data-telegram]");
    if (script) script.addEventListener("load", function () { if (webApp()) then(webApp()); });
  }

  function say(element, text, kind) {
    element.textContent = text;
    element.dataset.kind = kind || "info";
    element.hidden = !text;
  }

  window.FlyO = {webApp: webApp, initData: initData, applyTheme: applyTheme, api: api, withTelegram: withTelegram,
                 say: say, query: new URLSearchParams(location.search)};
  applyTheme();
  withTelegram(function (tg) {
    applyTheme();
    if (tg.ready) tg.ready();
    if (tg.expand) tg.expand();
    if (tg.onEvent) tg.onEvent("themeChanged", applyTheme);
  });
})();
