// A stand-in for https://telegram.org/js/telegram-web-app.js in the Mini App's browser tests
// (tests/webapp_browser.py serves it instead of the real script). It defines
// window.Telegram.WebApp as a Telegram client does and records every call the page makes in
// window.__telegram.calls. __SETUP__ is replaced with a JSON object: the signed initData, its
// unsafe copy, the theme parameters, the colour scheme and the platform.
(function () {
  const setup = __SETUP__;
  const calls = [];
  const handlers = {};
  const record = (name) => (...args) => { calls.push({ name: name, args: args }); };
  const button = (prefix) => ({
    isVisible: false,
    text: "",
    show() { this.isVisible = true; calls.push({ name: prefix + ".show", args: [] }); return this; },
    hide() { this.isVisible = false; calls.push({ name: prefix + ".hide", args: [] }); return this; },
    setText(text) { this.text = text; calls.push({ name: prefix + ".setText", args: [text] }); return this; },
    showProgress() { calls.push({ name: prefix + ".showProgress", args: [] }); return this; },
    hideProgress() { calls.push({ name: prefix + ".hideProgress", args: [] }); return this; },
    onClick(cb) { (handlers[prefix + "Clicked"] = handlers[prefix + "Clicked"] || []).push(cb); return this; },
  });
  window.Telegram = {
    WebApp: {
      initData: setup.initData,
      initDataUnsafe: setup.initDataUnsafe,
      version: "8.0",
      platform: setup.platform,
      colorScheme: setup.colorScheme,
      themeParams: setup.themeParams,
      isExpanded: false,
      ready: record("ready"),
      expand() { this.isExpanded = true; calls.push({ name: "expand", args: [] }); },
      close: record("close"),
      MainButton: button("MainButton"),
      BackButton: button("BackButton"),
      HapticFeedback: {
        impactOccurred: record("HapticFeedback.impactOccurred"),
        notificationOccurred: record("HapticFeedback.notificationOccurred"),
        selectionChanged: record("HapticFeedback.selectionChanged"),
      },
      switchInlineQuery: record("switchInlineQuery"),
      onEvent(name, cb) { (handlers[name] = handlers[name] || []).push(cb); calls.push({ name: "onEvent", args: [name] }); },
      offEvent(name, cb) { handlers[name] = (handlers[name] || []).filter((h) => h !== cb); },
      showConfirm(message, cb) { calls.push({ name: "showConfirm", args: [message] }); cb(true); },
      showAlert(message, cb) { calls.push({ name: "showAlert", args: [message] }); if (cb) cb(); },
    },
  };
  window.__telegram = { calls: calls, handlers: handlers };
})();
