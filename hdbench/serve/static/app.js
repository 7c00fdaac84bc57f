// The listening page. Answers go to an outbox in localStorage first and are sent until the
// server acknowledges them, so a lost connection or a reload loses nothing and repeats nothing
// (the server treats a retried answer, same nonce, as already recorded).
"use strict";

const TOKEN_KEY = "hdbench.token";
const OUTBOX_KEY = "hdbench.outbox";
const $ = (selector) => document.querySelector(selector);
const show = (id) => {
  for (const section of ["intro", "trial", "done"]) $("#" + section).hidden = section !== id;
};

let scale = null;
let session = null;
let token = localStorage.getItem(TOKEN_KEY);
let outbox = JSON.parse(localStorage.getItem(OUTBOX_KEY) || "[]");
let retryDelay = 500;
let flushing = false;

function nonce() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json().catch(() => ({}));
  return { status: response.status, data };
}

function saveOutbox() {
  localStorage.setItem(OUTBOX_KEY, JSON.stringify(outbox));
  const waiting = outbox.length;
  $("#saving").textContent = waiting ? `saving ${waiting} answer${waiting > 1 ? "s" : ""}…` : "all answers saved";
}

async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    while (outbox.length) {
      const answer = outbox[0];
      let result;
      try {
        result = await api("POST", "/api/answer", { token, ...answer });
      } catch (networkError) {
        result = { status: 0 };
      }
      if (result.status === 200 || (result.status >= 400 && result.status < 500 && result.status !== 429)) {
        if (result.status !== 200) console.warn("answer refused:", result.data.error);
        outbox.shift();
        saveOutbox();
        retryDelay = 500;
        continue;
      }
      // No acknowledgement: keep it and try again later.
      setTimeout(flush, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 8000);
      break;
    }
  } finally {
    flushing = false;
  }
  updateProgress();
}

function labelsFor(kind) {
  if (kind === "differential") return ["A is more natural", "the same", "B is more natural"];
  if (scale.high - scale.low === 100) return ["bad", "poor", "fair", "good", "excellent"];
  if (scale.step === 1 && scale.high - scale.low === 4) return ["bad", "poor", "fair", "good", "excellent"];
  return ["not natural at all", "completely natural"];
}

function slider(kind) {
  const input = document.createElement("input");
  input.type = "range";
  input.className = "rating";
  if (kind === "differential") {
    input.min = -1; input.max = 1; input.step = scale.differential_step; input.value = 0;
  } else {
    input.min = scale.low; input.max = scale.high; input.step = scale.step;
    input.value = (scale.low + scale.high) / 2;
  }
  input.disabled = true;
  const box = document.createElement("div");
  box.className = "scale locked";
  const labels = document.createElement("div");
  labels.className = "labels";
  for (const text of labelsFor(kind)) {
    const span = document.createElement("span");
    span.textContent = text;
    labels.append(span);
  }
  box.append(input, labels);
  return { box, input };
}

function pendingTrials() {
  const queued = new Set(outbox.map((a) => a.trial_id));
  return session.trials.filter((t) => !t.answered && !queued.has(t.trial_id));
}

function updateProgress() {
  if (!session) return;
  const total = session.trials.length;
  const left = pendingTrials().length;
  $(".progress").hidden = false;
  $(".progress .bar").style.width = `${(100 * (total - left)) / total}%`;
  $(".progress .count").textContent = `${total - left} of ${total}`;
}

function renderTrial(trial) {
  show("trial");
  const section = $("#trial");
  section.dataset.trialId = trial.trial_id;
  const sounds = section.querySelector(".sounds");
  sounds.replaceChildren();
  const next = $("#next");
  next.disabled = true;
  const numSounds = trial.order_shown.length;
  const names = numSounds === 1 ? ["Play"] : ["Sound A", "Sound B"];
  $(".prompt").textContent = {
    absolute: "Play the sound, then rate how natural it is.",
    paired: "Play each sound, then rate how natural each one is on its own slider.",
    differential: "Play both sounds, then say which is more natural, and by how much.",
  }[trial.kind];

  const sliders = [];
  const audios = [];
  const played = new Set();
  const moved = new Set();
  const ready = () => {
    next.disabled = !(played.size === numSounds && moved.size === sliders.length);
    $(".hint").textContent = next.disabled
      ? (played.size < numSounds ? "Play every sound to the end." : "Move every slider.")
      : "";
  };
  const unlock = (entry) => {
    entry.input.disabled = false;
    entry.box.classList.remove("locked");
  };
  let single = null;
  for (let shown = 0; shown < numSounds; shown += 1) {
    const row = document.createElement("div");
    row.className = "sound";
    const button = document.createElement("button");
    button.className = "play";
    button.dataset.shown = shown;
    button.textContent = `▶ ${names[shown]}`;
    const audio = new Audio(`/api/audio/${encodeURIComponent(trial.trial_id)}/${shown}?token=${encodeURIComponent(token)}`);
    audio.preload = "auto";
    audios.push(audio);
    button.addEventListener("click", () => {
      for (const other of audios) if (other !== audio) other.pause();
      for (const other of document.querySelectorAll(".play")) other.classList.remove("playing");
      if (audio.error) audio.load(); // it failed to load (offline): try again
      audio.currentTime = 0;
      button.classList.add("playing");
      audio.play().catch(() => button.classList.remove("playing"));
    });
    audio.addEventListener("ended", () => {
      button.classList.remove("playing");
      button.classList.add("played");
      played.add(shown);
      if (trial.kind !== "differential") unlock(sliders[shown]);
      else if (played.size === numSounds) unlock(single);
      ready();
    });
    row.append(button);
    if (trial.kind !== "differential") {
      const entry = slider(trial.kind);
      entry.input.dataset.shown = shown;
      entry.input.addEventListener("input", () => { moved.add(shown); ready(); });
      sliders.push(entry);
      row.append(entry.box);
    } else {
      row.append(document.createElement("span"));
    }
    sounds.append(row);
  }
  if (trial.kind === "differential") {
    single = slider("differential");
    single.input.dataset.shown = "d";
    single.input.addEventListener("input", () => { moved.add(0); ready(); });
    sliders.push(single);
    const row = document.createElement("div");
    row.className = "sound";
    row.append(document.createElement("span"), single.box);
    sounds.append(row);
  }
  ready();
  next.onclick = () => {
    next.disabled = true;
    trial.answered = true;
    outbox.push({ trial_id: trial.trial_id, nonce: nonce(), values: sliders.map((s) => Number(s.input.value)) });
    saveOutbox();
    flush();
    nextTrial();
  };
}

function nextTrial() {
  updateProgress();
  const trials = pendingTrials();
  if (trials.length) {
    renderTrial(trials[0]);
    return;
  }
  session = null;
  show("done");
  $(".done-title").textContent = "Thank you!";
  $(".done-text").textContent = "This session is complete. You may take another one, or close the page.";
  $("#again").hidden = false;
}

async function startSession() {
  const { status, data } = await api("POST", "/api/session", { token });
  if (status === 200) {
    session = data;
    nextTrial();
    return;
  }
  if (status === 401) return forget();
  show("done");
  $(".done-title").textContent = "Nothing to rate just now";
  $(".done-text").textContent = data.error || "Please come back later.";
  $("#again").hidden = false; // new trials may come: let the participant ask again
}

function forget() {
  token = null;
  localStorage.removeItem(TOKEN_KEY);
  show("intro");
}

async function init() {
  scale = (await api("GET", "/api/study")).data.scale;
  $(".session-size").textContent = (await api("GET", "/api/study")).data.session_size;
  saveOutbox();
  $("#consent").addEventListener("change", (e) => { $("#start").disabled = !e.target.checked; });
  $("#start").addEventListener("click", async () => {
    $("#start").disabled = true;
    const { status, data } = await api("POST", "/api/participants", { consent: true });
    if (status !== 200) { $("#start").disabled = false; return; }
    token = data.token;
    localStorage.setItem(TOKEN_KEY, token);
    startSession();
  });
  $("#again").addEventListener("click", startSession);
  if (!token) return show("intro");
  flush();
  const { status, data } = await api("GET", `/api/session?token=${encodeURIComponent(token)}`);
  if (status === 200) {
    session = data;
    nextTrial();
  } else if (status === 401) {
    forget();
  } else {
    show("done");
    $(".done-title").textContent = "Welcome back";
    $(".done-text").textContent = "Your earlier answers are saved.";
  }
}

init();
