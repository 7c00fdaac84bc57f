// The listening page: consent, volume, headphone check, practice, a session of trials, and the
// completion code. Answers go to an outbox in localStorage first and are sent until the server
// acknowledges them, so a lost connection or a reload loses nothing and repeats nothing (the
// server treats a retried answer, same nonce, as already recorded).
"use strict";

const TOKEN_KEY = "hdbench.token";
const OUTBOX_KEY = "hdbench.outbox";
const LOST_KEY = "hdbench.lost";
const SECTIONS = ["intro", "volume", "headphones", "training", "trial", "done"];
const $ = (selector) => document.querySelector(selector);
const show = (id) => {
  for (const section of SECTIONS) $("#" + section).hidden = section !== id;
  if (id !== "trial") $(".progress").hidden = true;
};

let study = null;
let session = null;
let token = localStorage.getItem(TOKEN_KEY);
let outbox = JSON.parse(localStorage.getItem(OUTBOX_KEY) || "[]");
let lost = Number(localStorage.getItem(LOST_KEY) || 0);
let retryDelay = 500;
let flushing = false;
let whenSaved = null; // called once the outbox is empty
const players = [];

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

const withToken = (path) => `${path}?token=${encodeURIComponent(token)}`;

// Sounds --------------------------------------------------------------------------------------

function stopAll() {
  for (const p of players) p.stop();
}

// A sound with play/stop, and once it has played to its end, seek and loop.
function player(src, label, onPlayedThrough, onError) {
  const row = document.createElement("div");
  row.className = "player";
  const button = document.createElement("button");
  button.className = "play";
  button.type = "button";
  button.textContent = `▶ ${label}`;
  const seek = document.createElement("input");
  seek.type = "range";
  seek.className = "seek";
  seek.min = 0; seek.max = 1000; seek.value = 0; seek.disabled = true;
  seek.setAttribute("aria-label", `Position in ${label}`);
  const loopLabel = document.createElement("label");
  loopLabel.className = "loop";
  const loop = document.createElement("input");
  loop.type = "checkbox";
  loop.disabled = true;
  loopLabel.append(loop, " loop");
  const audio = new Audio(src);
  audio.preload = "auto";
  const entry = {
    row, audio, button,
    stop() {
      audio.pause();
      button.classList.remove("playing");
      button.textContent = `▶ ${label}`;
    },
  };
  players.push(entry);
  button.addEventListener("click", () => {
    if (button.classList.contains("playing")) return entry.stop();
    stopAll();
    if (audio.error) audio.load(); // it failed to load (offline): try again
    if (audio.ended || !button.classList.contains("played")) audio.currentTime = 0;
    button.classList.add("playing");
    button.textContent = `■ Stop`;
    audio.play().catch(() => entry.stop());
  });
  loop.addEventListener("change", () => { audio.loop = loop.checked; });
  seek.addEventListener("input", () => {
    if (audio.duration) audio.currentTime = (seek.value / 1000) * audio.duration;
  });
  audio.addEventListener("timeupdate", () => {
    if (audio.duration) seek.value = Math.round((1000 * audio.currentTime) / audio.duration);
  });
  audio.addEventListener("ended", () => {
    entry.stop();
    seek.value = 0;
    if (!button.classList.contains("played")) {
      button.classList.add("played");
      seek.disabled = loop.disabled = false;
      onPlayedThrough();
    }
  });
  audio.addEventListener("error", () => { entry.stop(); if (onError) onError(); });
  row.append(button, seek, loopLabel);
  return entry;
}

function clearPlayers() {
  stopAll();
  players.length = 0;
}

// Sliders -------------------------------------------------------------------------------------

function labelsFor(kind) {
  if (kind === "differential") return ["A is more natural", "the same", "B is more natural"];
  if (study.scale.high - study.scale.low === 100) return ["bad", "poor", "fair", "good", "excellent"];
  if (study.scale.step === 1 && study.scale.high - study.scale.low === 4) return ["bad", "poor", "fair", "good", "excellent"];
  return ["not natural at all", "completely natural"];
}

function slider(kind, name) {
  const input = document.createElement("input");
  input.type = "range";
  input.className = "rating";
  const scale = study.scale;
  if (kind === "differential") {
    input.min = -1; input.max = 1; input.step = scale.differential_step; input.value = 0;
  } else {
    input.min = scale.low; input.max = scale.high; input.step = scale.step;
    input.value = (scale.low + scale.high) / 2;
  }
  input.disabled = true;
  const words = labelsFor(kind);
  input.setAttribute("aria-label", name);
  const describe = () => {
    const share = (input.value - input.min) / (input.max - input.min);
    const word = words[Math.min(words.length - 1, Math.floor(share * words.length))];
    input.setAttribute("aria-valuetext", `${input.value}: ${word}`);
  };
  describe();
  input.addEventListener("input", describe);
  const box = document.createElement("div");
  box.className = "scale locked";
  const labels = document.createElement("div");
  labels.className = "labels";
  labels.setAttribute("aria-hidden", "true");
  for (const text of words) {
    const span = document.createElement("span");
    span.textContent = text;
    labels.append(span);
  }
  box.append(input, labels);
  const unlock = () => { input.disabled = false; box.classList.remove("locked"); };
  return { box, input, unlock };
}

// The outbox ----------------------------------------------------------------------------------

function saveOutbox() {
  localStorage.setItem(OUTBOX_KEY, JSON.stringify(outbox));
  localStorage.setItem(LOST_KEY, String(lost));
  const waiting = outbox.length;
  const notNeeded = lost ? ` · ${lost} answer${lost > 1 ? "s" : ""} not kept: your time for ${lost > 1 ? "those trials" : "that trial"} ran out` : "";
  $("#saving").textContent = (waiting ? `saving ${waiting} answer${waiting > 1 ? "s" : ""}…` : "answers saved") + notNeeded;
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
        if (result.status !== 200) {
          lost += 1; // refused: its trial went to someone else, or the answer was not valid
          console.warn("answer refused:", result.data.error);
        }
        outbox.shift();
        saveOutbox();
        retryDelay = 500;
        continue;
      }
      setTimeout(flush, retryDelay); // no acknowledgement: keep it and try again later
      retryDelay = Math.min(retryDelay * 2, 8000);
      break;
    }
  } finally {
    flushing = false;
  }
  updateProgress();
  if (!outbox.length && whenSaved) {
    const then = whenSaved;
    whenSaved = null;
    then();
  }
}

function afterSaving(then) {
  whenSaved = then;
  flush();
}

// Entry, volume, headphones, practice ---------------------------------------------------------

function platformIds() {
  const query = new URLSearchParams(location.search);
  const ids = {};
  for (const key of ["PROLIFIC_PID", "STUDY_ID", "SESSION_ID", "workerId", "assignmentId", "hitId"]) {
    if (query.get(key)) ids[key] = query.get(key);
  }
  return ids;
}

async function start() {
  $("#start").disabled = true;
  const invitation = new URLSearchParams(location.search).get("invitation");
  const body = { consent: true, platform: platformIds() };
  if (invitation) body.invitation = invitation;
  const { status, data } = await api("POST", "/api/participants", body);
  if (status !== 200) {
    $("#intro-error").textContent = data.error || "The server did not answer: try again.";
    $("#start").disabled = false;
    return;
  }
  token = data.token;
  localStorage.setItem(TOKEN_KEY, token);
  showVolume();
}

function showVolume() {
  show("volume");
  clearPlayers();
  const done = $("#volume-done");
  done.disabled = true;
  const sample = player("/api/calibration.wav", "Sample", () => { done.disabled = false; });
  $("#volume-sound").replaceChildren(sample.row);
  done.onclick = () => { stopAll(); route(); };
}

function showHeadphones() {
  const num = study.headphone_trials;
  const answers = [];
  const section = $("#headphones");
  const choices = section.querySelector(".choices");
  const next = $("#headphones-next");
  const ask = (k) => {
    show("headphones");
    clearPlayers();
    section.dataset.step = k;
    section.querySelector(".step-count").textContent = `(${k + 1} of ${num})`;
    choices.disabled = true;
    for (const radio of choices.querySelectorAll("input")) radio.checked = false;
    next.disabled = true;
    const tones = player(withToken(`/api/headphones/${k}.wav`), "Three tones", () => { choices.disabled = false; });
    $("#headphone-sound").replaceChildren(tones.row);
    choices.onchange = () => { next.disabled = false; };
    next.onclick = async () => {
      next.disabled = true;
      answers.push(Number(choices.querySelector("input:checked").value));
      if (k + 1 < num) return ask(k + 1);
      const { status, data } = await api("POST", "/api/headphones", { token, answers });
      if (status === 200 && !data.passed) return showFailed();
      route();
    };
  };
  ask(0);
}

function showFailed() {
  show("done");
  $(".done-title").textContent = "Thank you for your time";
  $(".done-text").textContent = "This study needs headphones, and the check did not find them, so it ends here. Please return the study on your platform.";
  $("#again").hidden = true;
}

function showTraining() {
  const expected = study.training;
  const section = $("#training");
  const next = $("#training-next");
  const feedback = section.querySelector(".feedback");
  const ask = (k) => {
    show("training");
    clearPlayers();
    section.dataset.step = k;
    section.querySelector(".step-count").textContent = `(${k + 1} of ${expected.length})`;
    feedback.hidden = true;
    next.textContent = "Check";
    next.disabled = true;
    const rating = slider("absolute", "Practice sound: how natural");
    let moved = false;
    const sound = player(`/api/training/${k}.wav`, "Play", () => rating.unlock());
    rating.input.addEventListener("input", () => { moved = true; next.disabled = false; });
    const row = document.createElement("div");
    row.className = "sound";
    row.append(sound.row, rating.box);
    $("#training-sound").replaceChildren(row);
    next.onclick = async () => {
      if (feedback.hidden) {
        const share = (rating.input.value - study.scale.low) / (study.scale.high - study.scale.low);
        const high = expected[k] === "high";
        const right = high ? share >= 0.5 : share < 0.5;
        feedback.textContent = (right ? "Yes. " : "Not quite. ") + (high
          ? "This is a natural vowel: most listeners rate it in the upper half of the scale."
          : "This one was made to sound unnatural: most listeners rate it near the bottom.");
        feedback.className = `feedback ${right ? "right" : "wrong"}`;
        feedback.hidden = false;
        next.textContent = "Next";
        return;
      }
      if (!moved) return;
      if (k + 1 < expected.length) return ask(k + 1);
      await api("POST", "/api/trained", { token });
      route();
    };
  };
  ask(0);
}

// The session ---------------------------------------------------------------------------------

function pendingTrials() {
  const queued = new Set(outbox.map((a) => a.trial_id));
  return session.trials.filter((t) => !t.answered && !queued.has(t.trial_id));
}

function updateProgress() {
  if (!session || $("#trial").hidden) return;
  const total = session.trials.length;
  const left = pendingTrials().length;
  $(".progress").hidden = false;
  $(".progress .bar").style.width = `${(100 * (total - left)) / total}%`;
  $(".progress .count").textContent = `${total - left} of ${total}`;
}

function renderTrial(trial) {
  show("trial");
  clearPlayers();
  const section = $("#trial");
  section.dataset.trialId = trial.trial_id;
  const sounds = section.querySelector(".sounds");
  sounds.replaceChildren();
  const next = $("#next");
  next.disabled = true;
  const numSounds = trial.num_sounds;
  const names = numSounds === 1 ? ["Play"] : ["Sound A", "Sound B"];
  $("#trial .prompt").textContent = {
    absolute: "Play the sound, then rate how natural it is.",
    paired: "Play each sound, then rate how natural each one is on its own slider.",
    differential: "Play both sounds, then say which is more natural, and by how much.",
  }[trial.kind];

  const sliders = [];
  const played = new Set();
  const moved = new Set();
  const ready = () => {
    next.disabled = !(played.size === numSounds && moved.size === sliders.length);
    $("#trial .hint").textContent = next.disabled
      ? (played.size < numSounds ? "Play every sound to the end." : "Move every slider.")
      : "";
  };
  let single = null;
  for (let shown = 0; shown < numSounds; shown += 1) {
    const row = document.createElement("div");
    row.className = "sound";
    const src = withToken(`/api/audio/${encodeURIComponent(trial.trial_id)}/${shown}`);
    const sound = player(src, names[shown], () => {
      played.add(shown);
      if (trial.kind !== "differential") sliders[shown].unlock();
      else if (played.size === numSounds) single.unlock();
      ready();
    }, refreshSession);
    sound.button.dataset.shown = shown;
    row.append(sound.row);
    if (trial.kind !== "differential") {
      const entry = slider(trial.kind, `${names[shown]}: how natural`);
      entry.input.dataset.shown = shown;
      entry.input.addEventListener("input", () => { moved.add(shown); ready(); });
      sliders.push(entry);
      row.append(entry.box);
    }
    sounds.append(row);
  }
  if (trial.kind === "differential") {
    single = slider("differential", "Which sound is more natural, and by how much");
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
  if (trials.length) return renderTrial(trials[0]);
  session = null;
  clearPlayers();
  show("done");
  $(".done-title").textContent = "Saving your answers…";
  $(".done-text").textContent = "";
  afterSaving(finish);
}

async function finish() {
  if (study.completion) {
    const { status, data } = await api("GET", withToken("/api/completion"));
    if (status === 200) return showCompletion(data);
  }
  $(".done-title").textContent = "Thank you!";
  $(".done-text").textContent = "This session is complete. You may take another one, or close the page.";
  $("#again").hidden = false;
}

function showCompletion(completion) {
  show("done");
  $(".done-title").textContent = "Thank you: you have finished";
  $(".done-text").textContent = "Your answers are saved.";
  $(".completion").hidden = false;
  $("#completion-code").textContent = completion.code;
  const link = $("#redirect");
  link.hidden = !completion.redirect;
  if (completion.redirect) link.href = completion.redirect;
  $("#again").hidden = true;
}

// A sound could not be fetched: the session may have run out. Go on with what is still ours.
async function refreshSession() {
  const { status, data } = await api("GET", withToken("/api/session"));
  if (status === 200) {
    const current = $("#trial").dataset.trialId;
    session = data;
    if (!session.trials.some((t) => t.trial_id === current && !t.answered)) nextTrial();
    return;
  }
  if (status === 404) {
    session = null;
    show("done");
    $(".done-title").textContent = "Your time for this session ran out";
    $(".done-text").textContent = "Your answers so far are saved. Start again to go on.";
    $("#again").hidden = false;
  }
}

async function startSession() {
  $("#again").hidden = true;
  const { status, data } = await api("POST", "/api/session", { token });
  if (status === 200) {
    session = data;
    return nextTrial();
  }
  if (status === 401) return forget();
  show("done");
  $(".done-title").textContent = "Nothing to rate just now";
  $(".done-text").textContent = data.error || "Please come back later.";
  $("#again").hidden = status === 409 && study.completion; // new trials may come: ask again
}

function forget() {
  token = null;
  localStorage.removeItem(TOKEN_KEY);
  show("intro");
}

// Where a participant is, from the server's record of their stage.
async function route() {
  const { status, data } = await api("GET", withToken("/api/progress"));
  if (status === 401) return forget();
  if (status !== 200) return setTimeout(route, 2000);
  const next = {
    consented: showHeadphones,
    qualified: showTraining,
    headphones_failed: showFailed,
    completed: () => showCompletion(data.completion),
    trained: resumeSession,
  }[data.stage];
  next();
}

async function resumeSession() {
  const { status, data } = await api("GET", withToken("/api/session"));
  if (status === 200) {
    session = data;
    return nextTrial();
  }
  startSession();
}

async function init() {
  study = (await api("GET", "/api/study")).data;
  $(".session-length").textContent = study.session_length;
  $(".headphone-trials").textContent = study.headphone_trials;
  if (!study.headphone_trials) $(".headphone-trials").closest("li").hidden = true;
  saveOutbox();
  $("#consent").addEventListener("change", (e) => { $("#start").disabled = !e.target.checked; });
  $("#start").addEventListener("click", start);
  $("#again").addEventListener("click", startSession);
  if (!token) return show("intro");
  flush();
  const { status, data } = await api("GET", withToken("/api/progress"));
  if (status === 401) return forget();
  if (data.stage === "consented") return showVolume();
  route();
}

init();
