// What a Mini App page sees as window.Telegram.WebApp in the browser tests (the parts FlyO uses), installed
// before the page's scripts; the main button gets a visible stand-in (#tg-main-button) Selenium can press.
(function () {
  var config = window.__telegramConfig;
  var handlers = [];
  var state = {text: "", visible: false, enabled: true, progress: false};
  function button() {
    var b = document.getElementById("tg-main-button");
    if (!b && document.body) {
      b = document.createElement("button");
      b.id = "tg-main-button";
      b.type = "button";
      b.style.cssText = "position:fixed;left:0;right:0;bottom:0;height:52px;border:0;z-index:99;" +
        "background:" + config.theme.button_color + ";color:" + config.theme.button_text_color + ";font:600 16px sans-serif";
      b.addEventListener("click", function () { if (state.enabled && !state.progress) handlers.forEach(function (h) { h(); }); });
      document.body.appendChild(b);
    }
    if (b) { b.textContent = state.progress ? "…" : state.text; b.hidden = !state.visible; b.disabled = !state.enabled; }
    return b;
  }
  document.addEventListener("DOMContentLoaded", button);
  var main = {
    setText: function (t) { state.text = t; button(); return main; },
    show: function () { state.visible = true; button(); return main; },
    hide: function () { state.visible = false; button(); return main; },
    enable: function () { state.enabled = true; button(); return main; },
    disable: function () { state.enabled = false; button(); return main; },
    showProgress: function () { state.progress = true; button(); return main; },
    hideProgress: function () { state.progress = false; button(); return main; },
    onClick: function (h) { handlers.push(h); return main; },
    offClick: function (h) { handlers = handlers.filter(function (x) { return x !== h; }); return main; },
    setParams: function (p) { if (p.text) state.text = p.text; if ("is_visible" in p) state.visible = p.is_visible; button(); return main; }
  };
  window.__telegram = {closed: false, alerts: [], haptics: 0};
  window.Telegram = {WebApp: {
    initData: config.initData, initDataUnsafe: {}, version: "8.0", platform: "ios",
    colorScheme: config.scheme, themeParams: config.theme, MainButton: main,
    HapticFeedback: {notificationOccurred: function () { window.__telegram.haptics++; },
                     impactOccurred: function () {}, selectionChanged: function () {}},
    ready: function () {}, expand: function () {}, onEvent: function () {}, offEvent: function () {},
    close: function () { window.__telegram.closed = true; },
    showAlert: function (m, cb) { window.__telegram.alerts.push(m); if (cb) cb(); }
  }};
})();
