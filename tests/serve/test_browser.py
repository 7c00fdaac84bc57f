"""Scripted participants take a small vowel_a HumanDiffusion study, served with a completion
code, through every step of the page in a real browser, and the study finishes.

Headless Chromium from Debian's packages (`chromium`, `chromium-driver`), driven by Selenium with
/usr/bin/chromedriver; nothing downloads a browser. A participant clicks through the page as a
person would: consent, the volume sample, the headphone check (its answers from the server's
seeded key, never read off the page), practice with feedback, a session with hidden gold and
trap trials (each sound played to its end, at 16× speed, each slider moved to what a careful
listener gives a screening trial, or what the oracle's simulated listener gives the method's
trial), and the completion code. One reloads mid-session and answers once while offline;
another fails the headphone check and is stopped. Every wait is on the page's own events
(a MutationObserver), never a fixed time.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest

from tests.serve.conftest import careful_values, waiting_study

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip("no browser: apt-get install chromium chromium-driver", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")
pytest.importorskip("pyworld", reason="the speech extra is not installed")
pytest.importorskip("uvicorn", reason="the web extra is not installed: pip install '.[web]'")

pytestmark = pytest.mark.slow

#: 30 real tokens, one periphery point each, R = 2: 60 paired trials (120 ratings), then a
#: listening test of 30 real tokens and 20 samples (50 ratings).
SMALL_VOWEL = """
description = "vowel_a with 30 real tokens, for the browser test"
[acceptability]
kind = "vowel"
dim = 2
[real_data]
num = 30
seed = 0
"""
PARAMS = {"num_periphery": 1, "R": 2, "train_steps": 50, "num_steps": 200}
CODE = "HDB-7Q2X"
SCRIPT_TIMEOUT = 120  # s: a guard against a hang only; every wait returns on its event

# Plays every sound at 16× (Chromium's fastest), so that `ended` comes in 60 ms, not 1 s.
FAST_AUDIO = """
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () { this.playbackRate = 16; return play.call(this); };
"""

# `until(test)`: a promise resolved when test() holds, checked on every change of the page.
UNTIL = """
const until = (test) => new Promise((resolve) => {
  if (test()) return resolve();
  const observer = new MutationObserver(() => {
    if (test()) { observer.disconnect(); resolve(); }
  });
  observer.observe(document.body, { attributes: true, childList: true, subtree: true,
    characterData: true });
});
const play = async (button) => {
  button.click();
  await until(() => button.classList.contains("played"));
};
const setSlider = (input, value) => {
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
};
"""

# The page's CSP forbids eval: the condition is written into the script itself.
WAIT_FOR = (
    UNTIL
    + """
const done = arguments[arguments.length - 1];
until(() => { try { return (CONDITION); } catch (e) { return false; } }).then(() => done(true));
"""
)

VOLUME_AND_HEADPHONES = (
    UNTIL
    + """
const key = arguments[0], done = arguments[arguments.length - 1];
(async () => {
  await play(document.querySelector("#volume .play"));
  document.querySelector("#volume-done").click();
  for (let k = 0; k < key.length; k++) {
    await until(() => !document.querySelector("#headphones").hidden
      && document.querySelector("#headphones").dataset.step === String(k));
    await play(document.querySelector("#headphones .play"));
    document.querySelector(`#headphones input[value="${key[k]}"]`).click();
    document.querySelector("#headphones-next").click();
  }
  done(true);
})();
"""
)

TRAINING = (
    UNTIL
    + """
const expected = arguments[0], done = arguments[arguments.length - 1];
(async () => {
  const feedback = [];
  for (let k = 0; k < expected.length; k++) {
    const section = document.querySelector("#training");
    await until(() => !section.hidden && section.dataset.step === String(k));
    await play(section.querySelector(".play"));
    setSlider(section.querySelector("input.rating"), expected[k] === "high" ? 0.8 : 0.1);
    document.querySelector("#training-next").click();
    await until(() => !section.querySelector(".feedback").hidden);
    feedback.push(section.querySelector(".feedback").textContent);
    document.querySelector("#training-next").click();
  }
  done(feedback);
})();
"""
)

# Answers the trials the page shows, through its buttons and sliders, until the session ends
# or `stopAfter` are answered: arguments[0] maps a trial to its values in the order shown.
ANSWER_SESSION = (
    UNTIL
    + """
const answers = arguments[0], stopAfter = arguments[1], done = arguments[arguments.length - 1];
(async () => {
  let answered = 0;
  const trial = document.querySelector("#trial");
  while (!trial.hidden && answered < stopAfter) {
    const id = trial.dataset.trialId;
    for (const button of trial.querySelectorAll(".play")) await play(button);
    trial.querySelectorAll("input.rating").forEach((input, k) => setSlider(input, answers[id][k]));
    const next = document.querySelector("#next");
    if (next.disabled) return done("next stayed disabled: " + id);
    next.click();
    answered += 1;
    await until(() => trial.dataset.trialId !== id || trial.hidden);
  }
  done(answered);
})();
"""
)

# The same, up to the last step: sounds played and sliders set, Next not clicked.
PREPARE = ANSWER_SESSION.replace("next.click();", "return done(0);")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def browser():
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="hdbench-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=980,900",
        "--hide-scrollbars",
        "--mute-audio",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(SCRIPT_TIMEOUT)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAST_AUDIO})
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def server(tmp_path):
    """A small vowel_a study served with a completion code by uvicorn on 127.0.0.1, in a thread
    of this process."""
    from hdbench.oracles import load_oracle
    from hdbench.serve.server import PageOptions, open_page, page_server
    from hdbench.studies.screening import ScreeningRule

    spec = tmp_path / "oracles" / "vowel_small.toml"
    spec.parent.mkdir()
    spec.write_text(SMALL_VOWEL)
    oracle = load_oracle(str(spec))
    study = waiting_study(tmp_path / "study", oracle, PARAMS)
    # vowel_a's real tokens have D ≤ 0.85 (its peak is 0.9): an honest listener rates them
    # below BS.1534's 90 % most of the time, so this study sets its own bar (see the README).
    rule = ScreeningRule(reference_threshold=0.1, rate=0.1)
    options = PageOptions(
        session_size=60,
        rule=rule,
        completion_code=CODE,
        redirect_url=f"https://app.prolific.com/submissions/complete?cc={CODE}",
    )
    page = open_page(study.folder, options, seed=0)
    server = page_server(page, "127.0.0.1", free_port())
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert server.ready.wait(SCRIPT_TIMEOUT)
    yield f"http://127.0.0.1:{server.config.port}", study, oracle, page
    server.should_exit = True
    thread.join(30)


def wait_until(driver, condition: str) -> None:
    """Until the JavaScript expression `condition` holds on the page."""
    assert driver.execute_async_script(WAIT_FOR.replace("CONDITION", condition)) is True


def shown(driver, section: str) -> bool:
    return driver.execute_script(f"return !document.querySelector('#{section}').hidden")


def participant_of(driver) -> str:
    return driver.execute_script("return localStorage.getItem('hdbench.token')").split(".")[0]


def answers_for(page, participant_id: str, panel) -> dict[str, list[float]]:
    """Per trial handle, what the participant answers (in the order its sounds are shown): a
    careful listener's answer to a screening trial, the simulated listener's to the method's."""
    from hdbench.oracles import TrialBatch

    token = page.signer.participant_token(participant_id)
    answers = {}
    for trial_id, kind, stimuli, order, _ in page.ledger.leased_trials(participant_id):
        handle = page.signer.handle(participant_id, trial_id)
        ratings = panel.poll(panel.submit(TrialBatch.build(kind, stimuli[None])))
        values = ratings.values[0]
        method = [float(values[i]) for i in order] if kind != "differential" else [values[0]]
        trial = {"trial_id": handle, "num_sounds": len(order)}
        answers[handle] = careful_values(page, token, trial, [float(v) for v in method])
    return answers


def enter(driver, url: str, page) -> str:
    """Consent, volume, headphone check (right answers from the server's key), practice: the
    participant's id, with the page at their session."""
    from hdbench.serve import headphones

    driver.get(url)
    wait_until(driver, "!document.querySelector('#intro').hidden")
    assert driver.find_element("id", "start").get_attribute("disabled")
    assert driver.find_element("css selector", ".session-length").text == "67"  # 60 + 7 screening
    driver.find_element("id", "consent").click()
    driver.find_element("id", "start").click()
    wait_until(driver, "!document.querySelector('#volume').hidden")
    participant_id = participant_of(driver)
    key = headphones.answer_key(page.signer.secret, participant_id)
    assert driver.execute_async_script(VOLUME_AND_HEADPHONES, key) is True
    wait_until(driver, "!document.querySelector('#training').hidden")
    expected = [e for _, e in page.training]
    feedback = driver.execute_async_script(TRAINING, expected)
    assert [f.startswith("Yes.") for f in feedback] == [True] * len(expected)
    assert any("natural vowel" in f for f in feedback) and any("unnatural" in f for f in feedback)
    wait_until(driver, "!document.querySelector('#trial').hidden")
    return participant_id


def answer_until_done(driver, page, participant_id, panel) -> None:
    answers = answers_for(page, participant_id, panel)
    result = driver.execute_async_script(ANSWER_SESSION, answers, 10_000)
    assert isinstance(result, int), result
    wait_until(driver, "!document.querySelector('.completion').hidden")
    assert driver.find_element("id", "completion-code").text == CODE
    redirect = driver.find_element("id", "redirect").get_attribute("href")
    assert redirect == f"https://app.prolific.com/submissions/complete?cc={CODE}"


def new_participant(driver, url: str, query: str) -> None:
    driver.execute_script("localStorage.clear()")
    driver.get(url + query)


def test_participants_take_a_vowel_study_through_every_step_and_it_finishes(
    browser, server, tmp_path, capsys
):
    from hdbench.cli import main
    from hdbench.studies.loop import Waiting

    url, study, oracle, page = server
    panel = oracle.panel(seed=11)

    # The first participant comes from Prolific, with its ids in the study link.
    new_participant(browser, url, "/?PROLIFIC_PID=5f1a2b3c4d&STUDY_ID=st9&SESSION_ID=se4")
    first = enter(browser, url + "/?PROLIFIC_PID=5f1a2b3c4d&STUDY_ID=st9&SESSION_ID=se4", page)
    roles = {r for *_, r in page.ledger.leased_trials(first)}
    assert {"reference,anchor", "anchor,reference"} & roles and "same,same" in roles
    answers = answers_for(page, first, panel)
    take_screenshots(browser, answers)
    halfway = browser.execute_script("return document.querySelector('#trial').dataset.trialId")
    assert browser.execute_async_script(ANSWER_SESSION, answers, 5) == 5
    browser.refresh()  # half a session, then a reload: it goes on where it was
    wait_until(browser, "!document.querySelector('#trial').hidden")
    assert (
        browser.execute_script("return document.querySelector('#trial').dataset.trialId") != halfway
    )
    check_offline_answer(browser, page, answers, first)
    answer_until_done(browser, page, first, panel)
    assert isinstance(study.proceed(), Waiting)  # m0 told; the listening test waits

    # One without headphones: thanked and stopped, and excluded in the report.
    new_participant(browser, url, "/?PROLIFIC_PID=aa00bb11")
    wait_until(browser, "!document.querySelector('#intro').hidden")
    browser.find_element("id", "consent").click()
    browser.find_element("id", "start").click()
    wait_until(browser, "!document.querySelector('#volume').hidden")
    from hdbench.serve import headphones

    wrong = [
        (k + 1) % 3 for k in headphones.answer_key(page.signer.secret, participant_of(browser))
    ]
    assert browser.execute_async_script(VOLUME_AND_HEADPHONES, wrong) is True
    wait_until(browser, "document.querySelector('.done-title').textContent.includes('time')")
    assert "needs headphones" in browser.find_element("css selector", ".done-text").text

    # A third answers the listening test.
    new_participant(browser, url, "/?PROLIFIC_PID=cc22dd33")
    third = enter(browser, url + "/?PROLIFIC_PID=cc22dd33", page)
    answer_until_done(browser, page, third, panel)
    assert main(["study", "resume", str(study.folder)]) == 0
    out = capsys.readouterr().out
    assert "metrics against the truth are not computed" in out
    row = json.loads((study.folder / "metrics.json").read_text())
    assert row["answered_by"] == "people" and "mmd2" not in row
    assert 0 <= row["listening_mean"] <= 1
    for name in ("listening.png", "participants.csv", "SCORING.md", "samples.npy"):
        assert (study.folder / name).exists(), name
    import pandas as pd

    people = pd.read_csv(study.folder / "participants.csv").set_index("participant_id")
    assert people.loc[first, "PROLIFIC_PID"] == "5f1a2b3c4d"
    assert people.loc[first, "STUDY_ID"] == "st9" and people.loc[first, "stage"] == "completed"
    assert not people.loc[[first, third], "flagged"].any()
    (failed,) = people.index[people["stage"] == "headphones_failed"]
    assert people.loc[failed, "reason"] == "failed the headphone check (0 of 6 right)"
    scoring = (study.folder / "SCORING.md").read_text()
    assert f"- {failed}: failed the headphone check (0 of 6 right)" in scoring


def check_offline_answer(browser, page, answers, participant_id):
    """An answer given offline waits in the outbox, then goes, once."""
    handle = browser.execute_script("return document.querySelector('#trial').dataset.trialId")
    browser.execute_async_script(PREPARE, answers, 1)  # sounds played, sliders set
    browser.execute_cdp_cmd("Network.enable", {})
    offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
    browser.execute_script("document.querySelector('#next').click()")
    outbox = json.loads(browser.execute_script("return localStorage.getItem('hdbench.outbox')"))
    assert [a["trial_id"] for a in outbox] == [handle]
    wait_until(browser, "document.querySelector('#saving').textContent.includes('saving 1 answer')")
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {**offline, "offline": False})
    wait_until(browser, "document.querySelector('#saving').textContent === 'answers saved'")
    from hdbench.studies.people import responses_table

    trial_id = page.ledger.trial_of_handle(participant_id, handle)
    table = responses_table(page.ledger)
    mine = table[(table["trial_id"] == trial_id) & (table["participant_id"] == participant_id)]
    assert mine["nonce"].nunique() == 1 and len(mine) == 2  # one answer, its two values


def take_screenshots(browser, answers):
    """A paired trial with both sounds played and rated (the README's figure), at the first
    whose two ratings differ, at 980 px and at 390 px; written to the folder
    HDBENCH_SCREENSHOTS names, else to a temporary one."""
    for _ in range(12):
        handle = browser.execute_script("return document.querySelector('#trial').dataset.trialId")
        values = answers[handle]
        if len(values) == 2 and min(values) > 0.15 and max(values) - min(values) > 0.15:
            break
        assert browser.execute_async_script(ANSWER_SESSION, answers, 1) == 1
    assert browser.execute_async_script(PREPARE, answers, 1) == 0
    labels = browser.execute_script(
        "return [...document.querySelectorAll('#trial input[type=range]')]"
        ".map(i => [i.className, i.getAttribute('aria-label'), i.disabled])"
    )
    assert labels == [
        ["seek", "Position in Sound A", False],
        ["rating", "Sound A: how natural", False],
        ["seek", "Position in Sound B", False],
        ["rating", "Sound B: how natural", False],
    ]  # each sound played through: seek and loop open, sliders labelled
    assert browser.execute_script(
        "return [...document.querySelectorAll('#trial .loop input')].every(i => !i.disabled)"
    )
    folder = Path(os.environ.get("HDBENCH_SCREENSHOTS") or tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(folder / "listening-page.png"))
    browser.set_window_size(390, 844)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    assert browser.save_screenshot(str(folder / "listening-page-390.png"))
    browser.set_window_size(980, 900)
