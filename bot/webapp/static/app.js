// songbot Mini App: the library (play, read, rename, delete, share) and a form to make a song.
// Plain JavaScript on purpose: nothing to build, served by the bot as it is. Every API call sends
// Telegram's signed initData; the server checks it each time and decides everything. Buttons are
// words, not emoji: a web view without an emoji font would show empty boxes.
"use strict";

const tg = (window.Telegram && window.Telegram.WebApp) || null;
const state = {
  strings: {},
  models: [],
  offset: 0,
  query: "",
  listing: 0, // the number of the newest song listing asked for
  inline: false, // BotFather's inline mode: Share opens the chat picker
  token: newToken(),
  recording: null, // {blob, name, seconds}
  recorder: null,
  inTelegram: Boolean(tg && tg.platform && tg.platform !== "unknown"),
};

function newToken() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return String(Date.now()) + "-" + Math.random().toString(36).slice(2, 12);
}

function text(key, params) {
  let value = state.strings[key] || key;
  for (const [name, v] of Object.entries(params || {})) value = value.split("{" + name + "}").join(String(v));
  return value;
}

function haptic(kind) {
  const h = tg && tg.HapticFeedback;
  if (!h) return;
  if (kind === "success" || kind === "error" || kind === "warning") h.notificationOccurred(kind);
  else h.impactOccurred(kind || "light");
}

async function api(path, options) {
  const opts = Object.assign({ headers: {} }, options || {});
  opts.headers = Object.assign({ Authorization: "tma " + ((tg && tg.initData) || "") }, opts.headers);
  const response = await fetch(path, opts);
  let body = {};
  try { body = await response.json(); } catch (_) { body = {}; }
  if (!response.ok) {
    const error = new Error(body.error || "HTTP " + response.status);
    error.status = response.status;
    error.body = body;
    throw error;
  }
  return body;
}

function applyTheme() {
  if (!tg || !tg.themeParams) return;
  const root = document.documentElement.style;
  for (const [name, value] of Object.entries(tg.themeParams)) {
    root.setProperty("--tg-theme-" + name.replace(/_/g, "-"), value);
  }
  const scheme = tg.colorScheme === "dark" ? "dark" : "light";
  document.documentElement.dataset.scheme = scheme;
  // The browser's own parts (the audio players, checkboxes, scroll bars) follow Telegram's
  // scheme too, not the device's.
  document.documentElement.style.colorScheme = scheme;
}

function fillTexts() {
  document.querySelectorAll("[data-text]").forEach((el) => { el.textContent = text(el.dataset.text); });
  document.getElementById("search").placeholder = text("app_search");
  document.getElementById("style").placeholder = text("app_style_placeholder");
  document.getElementById("lyrics").placeholder = text("app_lyrics_placeholder").replace(/\\n/g, "\n");
  document.getElementById("more").textContent = text("app_more");
  document.getElementById("purpose").setAttribute("aria-label", text("app_purpose_label"));
}

// ------------------------------------------------------------------ tabs
function showTab(name) {
  for (const tab of ["library", "make"]) {
    document.getElementById(tab).hidden = tab !== name;
    document.getElementById("tab-" + tab).setAttribute("aria-selected", String(tab === name));
  }
  if (tg && tg.BackButton) {
    if (name === "make") tg.BackButton.show(); else tg.BackButton.hide();
  }
  if (tg && tg.MainButton && state.inTelegram) {
    if (name === "make") {
      tg.MainButton.setText(text("app_submit"));
      tg.MainButton.show();
    } else {
      tg.MainButton.hide();
    }
  }
}

// ------------------------------------------------------------------ the library
function formatDuration(seconds) {
  if (!seconds && seconds !== 0) return "";
  const s = Math.round(seconds);
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

function formatDate(epoch) {
  try {
    return new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: "medium" }).format(new Date(epoch * 1000));
  } catch (_) {
    return new Date(epoch * 1000).toDateString();
  }
}

function songItem(song) {
  const node = document.getElementById("song-template").content.firstElementChild.cloneNode(true);
  node.dataset.id = String(song.id);
  node.querySelector(".title").textContent = song.title;
  const meta = [song.style, song.model, formatDuration(song.duration), formatDate(song.created_at)];
  if (song.owner) meta.push(text("app_by", { name: song.owner }));
  if (song.shared && song.plays) meta.push(text("app_plays", { n: song.plays }));
  node.querySelector(".meta").textContent = meta.filter(Boolean).join(" · ");
  const player = node.querySelector("audio");
  player.src = song.audio;
  player.addEventListener("play", () => {
    document.querySelectorAll("audio.player").forEach((other) => { if (other !== player) other.pause(); });
  });
  node.querySelector("summary").textContent = text("app_lyrics");
  node.querySelector("pre").textContent = song.lyrics || text("app_no_lyrics");
  const share = node.querySelector(".share");
  if (state.inline && song.mine) {
    share.textContent = text("app_share");
    share.addEventListener("click", () => shareSong(song));
  } else {
    // Without inline mode, or for someone else's song (inline mode finds only your own), the
    // chat picker would insert a query that finds nothing.
    share.remove();
  }
  const link = node.querySelector(".link-button");
  const rename = node.querySelector(".rename");
  const del = node.querySelector(".delete");
  if (song.manage) {
    link.textContent = text("app_share_link");
    link.addEventListener("click", () => copyLink(song, link));
    rename.textContent = text("app_rename");
    rename.addEventListener("click", () => renameSong(song, node));
    del.textContent = text("app_delete");
    del.addEventListener("click", () => deleteSong(song, node));
  } else {
    link.remove(); rename.remove(); del.remove();
  }
  return node;
}

async function loadSongs(reset) {
  const list = document.getElementById("songs");
  const note = document.getElementById("library-note");
  const more = document.getElementById("more");
  if (reset) { state.offset = 0; list.replaceChildren(); }
  // Only the newest listing may fill the list: a slow answer to an older search (the person
  // kept typing) must not add its songs under the new one's.
  const ticket = ++state.listing;
  try {
    const query = new URLSearchParams({ q: state.query, offset: String(state.offset) });
    const page = await api("/app/api/songs?" + query.toString());
    if (ticket !== state.listing) return;
    page.songs.forEach((song) => list.appendChild(songItem(song)));
    state.offset = page.next_offset || state.offset + page.songs.length;
    more.hidden = page.next_offset === null;
    note.hidden = list.children.length > 0;
    note.textContent = state.query ? text("app_nothing_found") : text("app_empty");
  } catch (error) {
    if (ticket !== state.listing) return;
    note.hidden = false;
    note.textContent = text("app_failed_load");
  }
}

async function shareSong(song) {
  haptic("light");
  try {
    const answer = await api("/app/api/songs/" + song.id + "/share", { method: "POST", body: "{}" });
    if (tg && tg.switchInlineQuery) tg.switchInlineQuery(answer.inline_query, ["users", "groups", "channels"]);
  } catch (error) {
    showAlert(error.message);
  }
}

async function copyLink(song, button) {
  try {
    const answer = await api("/app/api/songs/" + song.id + "/share", { method: "POST", body: JSON.stringify({ link: true }) });
    try { await navigator.clipboard.writeText(answer.link); } catch (_) { /* shown below anyway */ }
    button.textContent = text("app_link_copied");
    button.title = answer.link;
    haptic("success");
  } catch (error) {
    showAlert(error.message);
  }
}

function renameSong(song, node) {
  const title = node.querySelector(".title");
  if (node.querySelector("input.rename-input")) return;
  const input = document.createElement("input");
  input.className = "rename-input";
  input.value = song.title;
  input.maxLength = 64;
  input.setAttribute("aria-label", text("app_rename_prompt"));
  title.replaceWith(input);
  input.focus();
  let done = false;
  const finish = async (save) => {
    if (done) return;
    done = true;
    if (save && input.value.trim() && input.value.trim() !== song.title) {
      try {
        const answer = await api("/app/api/songs/" + song.id + "/rename", { method: "POST", body: JSON.stringify({ title: input.value }) });
        song.title = answer.title;
        haptic("success");
      } catch (error) {
        showAlert(error.message);
      }
    }
    title.textContent = song.title;
    input.replaceWith(title);
  };
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") finish(true);
    if (event.key === "Escape") finish(false);
  });
  input.addEventListener("blur", () => finish(true));
}

function confirmAsk(message) {
  return new Promise((resolve) => {
    if (tg && tg.showConfirm && state.inTelegram) tg.showConfirm(message, (ok) => resolve(Boolean(ok)));
    else resolve(window.confirm(message));
  });
}

function showAlert(message) {
  haptic("error");
  if (tg && tg.showAlert && state.inTelegram) tg.showAlert(message);
  else window.alert(message);
}

async function deleteSong(song, node) {
  if (!(await confirmAsk(text("app_delete_confirm", { title: song.title })))) return;
  try {
    await api("/app/api/songs/" + song.id + "/delete", { method: "POST", body: "{}" });
    node.remove();
    haptic("success");
    const note = document.getElementById("library-note");
    if (!document.getElementById("songs").children.length) { note.hidden = false; note.textContent = text("app_empty"); }
  } catch (error) {
    showAlert(error.message);
  }
}

// ------------------------------------------------------------------ the form
function currentModel() {
  // "Automatic" (the empty value) leaves the choice to the server, as /song does; count against
  // the model it would pick for this kind of request.
  let id = document.getElementById("model").value;
  if (!id) {
    const auto = state.autoModels || {};
    if (state.recording) id = auto.reference;
    else if (document.getElementById("instrumental").checked) id = auto.instrumental;
    else id = auto.lyrics;
  }
  return state.models.find((m) => m.id === id) || null;
}

function updateCounter() {
  const lyrics = document.getElementById("lyrics");
  const counter = document.getElementById("counter");
  const model = currentModel();
  const instrumental = document.getElementById("instrumental").checked;
  lyrics.disabled = instrumental;
  // JavaScript strings are UTF-16, the unit the provider counts: .length is the right measure.
  const used = lyrics.value.trim().length;
  const max = model && model.takes_lyrics ? model.lyrics_max : 0;
  counter.classList.toggle("over", used > max && !instrumental);
  counter.textContent = used > max && max > 0 && !instrumental
    ? text("app_lyrics_over", { over: used - max })
    : text("app_lyrics_counter", { used: used, max: max });
  document.getElementById("submit").disabled = used > max && max > 0 && !instrumental;
}

function setupPresets() {
  const box = document.getElementById("presets");
  box.replaceChildren();
  for (const preset of text("app_presets").split("|")) {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.textContent = preset;
    chip.addEventListener("click", () => { document.getElementById("style").value = preset; haptic("light"); });
    box.appendChild(chip);
  }
}

function setupModels() {
  const select = document.getElementById("model");
  select.replaceChildren();
  const auto = document.createElement("option");
  auto.value = "";
  auto.textContent = text("app_model_auto");
  select.appendChild(auto);
  for (const model of state.models) {
    const option = document.createElement("option");
    option.value = model.id;
    option.textContent = model.name;
    select.appendChild(option);
  }
  select.value = "";
}

function setRecording(blob, name, seconds) {
  state.recording = blob ? { blob: blob, name: name, seconds: seconds } : null;
  const box = document.getElementById("recording");
  const audio = document.getElementById("recording-audio");
  box.hidden = !blob;
  document.getElementById("purpose").hidden = !blob;
  if (audio.src) URL.revokeObjectURL(audio.src);
  if (blob) audio.src = URL.createObjectURL(blob); else audio.removeAttribute("src");
  if (!blob) document.getElementById("file").value = ""; // the same file can be chosen again
  updateCounter();
}

async function toggleRecording() {
  const button = document.getElementById("record");
  if (state.recorder) { state.recorder.stop(); return; }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (_) {
    showAlert(text("app_mic_denied"));
    return;
  }
  const chunks = [];
  const recorder = new MediaRecorder(stream);
  const started = Date.now();
  recorder.addEventListener("dataavailable", (event) => { if (event.data.size) chunks.push(event.data); });
  recorder.addEventListener("stop", () => {
    stream.getTracks().forEach((track) => track.stop());
    state.recorder = null;
    button.textContent = text("app_record");
    button.classList.remove("recording");
    const type = recorder.mimeType || "audio/webm";
    const extension = type.includes("ogg") ? "ogg" : type.includes("mp4") ? "m4a" : "webm";
    const seconds = Math.round((Date.now() - started) / 1000);
    setRecording(new Blob(chunks, { type: type }), "recording." + extension, seconds);
    document.getElementById("purpose").value = "voice";
    haptic("success");
  });
  state.recorder = recorder;
  recorder.start(250);
  button.textContent = text("app_stop");
  button.classList.add("recording");
  haptic("medium");
}

async function submitForm(event) {
  if (event) event.preventDefault();
  const error = document.getElementById("form-error");
  const done = document.getElementById("form-done");
  const submit = document.getElementById("submit");
  error.hidden = true;
  done.hidden = true;
  const model = currentModel();
  const minimum = model && model.reference_min_seconds;
  if (state.recording && state.recording.seconds !== null && minimum && state.recording.seconds <= minimum) {
    // The server would take it and the job would fail in the chat: say it here, now.
    error.textContent = text("app_recording_short", { min: Math.round(minimum) });
    error.hidden = false;
    haptic("error");
    return;
  }
  const form = new FormData();
  form.append("token", state.token);
  form.append("style", document.getElementById("style").value);
  const instrumental = document.getElementById("instrumental").checked;
  if (!instrumental) form.append("lyrics", document.getElementById("lyrics").value);
  form.append("instrumental", instrumental ? "1" : "0");
  form.append("model", document.getElementById("model").value);
  if (state.recording) {
    form.append("purpose", document.getElementById("purpose").value);
    form.append("recording", state.recording.blob, state.recording.name);
  }
  submit.disabled = true;
  submit.textContent = text("app_sending");
  if (tg && tg.MainButton && state.inTelegram) tg.MainButton.showProgress();
  try {
    const answer = await api("/app/api/make", { method: "POST", body: form });
    done.textContent = answer.message;
    done.hidden = false;
    state.token = newToken();
    document.getElementById("make-form").reset();
    setRecording(null);
    updateCounter();
    haptic("success");
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
    haptic("error");
  } finally {
    submit.disabled = false;
    submit.textContent = text("app_submit");
    if (tg && tg.MainButton && state.inTelegram) tg.MainButton.hideProgress();
  }
}

// ------------------------------------------------------------------ start
async function start() {
  if (tg) {
    tg.ready();
    if (tg.expand) tg.expand();
    applyTheme();
    if (tg.onEvent) {
      tg.onEvent("themeChanged", applyTheme);
      tg.onEvent("backButtonClicked", () => showTab("library"));
      tg.onEvent("mainButtonClicked", () => submitForm(null));
    }
  }
  let me;
  try {
    me = await api("/app/api/me");
  } catch (_) {
    document.body.textContent = "Open this page from the bot in Telegram.";
    return;
  }
  state.strings = me.strings;
  state.models = me.models;
  document.documentElement.lang = me.lang;
  fillTexts();
  document.getElementById("tab-library").textContent = me.group ? text("app_tab_group") : text("app_tab_library");
  document.getElementById("tab-make").textContent = text("app_tab_make");
  document.getElementById("tab-make").hidden = Boolean(me.group);
  if (state.inTelegram) document.getElementById("submit").hidden = true;
  setupPresets();
  state.autoModels = me.auto_models || {};
  state.inline = Boolean(me.inline);
  setupModels();
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => { haptic("light"); showTab(b.dataset.tab); }));
  let timer = null;
  document.getElementById("search").addEventListener("input", (event) => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.query = event.target.value.trim(); loadSongs(true); }, 300);
  });
  document.getElementById("more").addEventListener("click", () => loadSongs(false));
  document.getElementById("lyrics").addEventListener("input", updateCounter);
  document.getElementById("model").addEventListener("change", updateCounter);
  document.getElementById("instrumental").addEventListener("change", updateCounter);
  document.getElementById("record").addEventListener("click", toggleRecording);
  document.getElementById("file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) { setRecording(file, file.name, null); document.getElementById("purpose").value = "song"; }
  });
  document.getElementById("remove-recording").addEventListener("click", () => setRecording(null));
  document.getElementById("make-form").addEventListener("submit", submitForm);
  updateCounter();
  showTab("library");
  document.body.dataset.ready = "1";
  await loadSongs(true);
}

document.addEventListener("DOMContentLoaded", start);
