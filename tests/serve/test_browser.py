"""A scripted participant answers a small vowel_a HumanDiffusion study in a real browser.

Headless Chromium from Debian's packages (`chromium`, `chromium-driver`), driven by Selenium with
/usr/bin/chromedriver; nothing downloads a browser. The participant clicks through the page as a
person would: consent, play each sound to its end (at 16× speed, so the test is quick), move each
slider to the value a simulated listener of the oracle gives that stimulus, next. Between
batches the study resumes; it ends with its results, scored by the listening test only.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.serve.conftest import waiting_study

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip("no browser: apt-get install chromium chromium-driver", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")
pytest.importorskip("pyworld", reason="the speech extra is not installed")
pytest.importorskip("uvicorn", reason="the web extra is not installed: pip install '.[web]'")

pytestmark = pytest.mark.slow

#: 30 real tokens, one periphery point each, R = 2: 60 paired trials (120 ratings), then a
#: listening test of 30 real tokens and 20 samples (50 ratings); with screening, about 200.
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

# Plays every sound at 16× (Chromium's fastest), so that `ended` comes in 60 ms, not 1 s.
FAST_AUDIO = """
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () { this.playbackRate = 16; return play.call(this); };
"""

# Answers every trial the page shows, through its buttons and sliders, until a session ends:
# arguments[0] maps trial_id to the values in the order its sounds are shown.
ANSWER_SESSION = """
const answers = arguments[0], stopAfter = arguments[1], done = arguments[arguments.length - 1];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = async (test) => {
  for (let i = 0; i < 2000 && !test(); i++) await sleep(15);
  return test();
};
(async () => {
  let answered = 0;
  while (!document.querySelector("#trial").hidden && answered < stopAfter) {
    const trial = document.querySelector("#trial");
    const id = trial.dataset.trialId;
    for (const button of trial.querySelectorAll(".play")) {
      button.click();
      if (!(await until(() => button.classList.contains("played")))) return done("no end: " + id);
    }
    const sliders = trial.querySelectorAll("input.rating");
    sliders.forEach((input, k) => {
      input.value = answers[id][k];
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
    const next = document.querySelector("#next");
    if (next.disabled) return done("next stayed disabled: " + id);
    next.click();
    answered += 1;
    await until(() => trial.dataset.trialId !== id || trial.hidden);
  }
  done(answered);
})();
"""

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
        "--window-size=980,820",
        "--hide-scrollbars",
        "--mute-audio",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(120)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAST_AUDIO})
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def server(tmp_path):
    """A small vowel_a study served by uvicorn on 127.0.0.1, in a thread of this process."""
    import uvicorn

    from hdbench.oracles import load_oracle
    from hdbench.serve.app import build_app
    from hdbench.serve.server import PageOptions, open_page
    from hdbench.studies.screening import ScreeningRule

    spec = tmp_path / "oracles" / "vowel_small.toml"
    spec.parent.mkdir()
    spec.write_text(SMALL_VOWEL)
    oracle = load_oracle(str(spec))
    study = waiting_study(tmp_path / "study", oracle, PARAMS)
    # vowel_a's real tokens have D ≤ 0.85 (its peak is 0.9): an honest listener rates them
    # below BS.1534's 90 % most of the time, so this study sets its own bar (see the README).
    rule = ScreeningRule(reference_threshold=0.1, rate=0.1)
    page = open_page(study.folder, PageOptions(session_size=30, rule=rule), seed=0)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(build_app(page), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", study, oracle, page
    server.should_exit = True
    thread.join(10)


def simulated_values(page, oracle, participant_id: str, panel) -> dict[str, list[float]]:
    """What the oracle's simulated listener answers to every trial leased to the participant,
    in the order the page shows its sounds."""
    rows = page.ledger._db.execute(
        "SELECT t.trial_id, t.kind, t.stimuli, b.dim, t.order_shown FROM leases l "
        "JOIN trials t ON t.trial_id = l.trial_id JOIN batches b ON b.batch_id = t.batch_id "
        "WHERE l.participant_id = ?",
        (participant_id,),
    ).fetchall()
    from hdbench.oracles import TrialBatch

    answers = {}
    for trial_id, kind, blob, dim, order in rows:
        stimuli = np.frombuffer(blob, dtype=np.float64).reshape(1, -1, dim)
        ratings = panel.poll(panel.submit(TrialBatch.build(kind, stimuli)))
        values = ratings.values[0]
        answers[trial_id] = (
            [float(values[i]) for i in json.loads(order)]
            if kind != ("differential")
            else [float(values[0])]
        )
    return answers


def shown(driver, section: str) -> bool:
    return driver.execute_script(f"return !document.querySelector('#{section}').hidden")


def wait_for(driver, test, timeout=60.0):
    end = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < end, "the page did not get there"
        time.sleep(0.05)


def test_a_participant_answers_a_vowel_study_in_the_browser_and_it_finishes(
    browser, server, tmp_path, capsys
):
    from hdbench.cli import main
    from hdbench.studies.loop import Waiting

    url, study, oracle, page = server
    panel = oracle.panel(seed=11)
    browser.get(url)
    wait_for(browser, lambda: shown(browser, "intro"))
    assert browser.find_element("id", "start").get_attribute("disabled")
    browser.find_element("id", "consent").click()
    browser.find_element("id", "start").click()
    wait_for(browser, lambda: shown(browser, "trial") or shown(browser, "done"))
    token = browser.execute_script("return localStorage.getItem('hdbench.token')")
    participant_id = token.split(".")[0]

    screenshot_taken = reloaded = offline_checked = False
    for _ in range(40):
        if shown(browser, "trial"):
            answers = simulated_values(page, oracle, participant_id, panel)
            if not screenshot_taken:
                take_screenshot(browser, answers)
                screenshot_taken = True
            if not reloaded:  # half a session, then a reload: it goes on where it was
                first = browser.execute_script(
                    "return document.querySelector('#trial').dataset.trialId"
                )
                assert browser.execute_async_script(ANSWER_SESSION, answers, 5) == 5
                browser.refresh()
                wait_for(browser, lambda: shown(browser, "trial"))
                now = browser.execute_script(
                    "return document.querySelector('#trial').dataset.trialId"
                )
                assert now != first
                reloaded = True
                continue
            if not offline_checked:  # an answer given offline waits in the outbox, then goes
                check_offline_answer(browser, page, answers, participant_id)
                offline_checked = True
            result = browser.execute_async_script(ANSWER_SESSION, answers, 10_000)
            assert isinstance(result, int), result
            continue
        # A session ended, or nothing is waiting: the study goes on with what is in.
        assert shown(browser, "done"), browser.find_element("tag name", "main").text
        outcome = study.proceed()
        if not isinstance(outcome, Waiting):
            break
        browser.find_element("id", "again").click()
        wait_for(browser, lambda: shown(browser, "trial") or shown(browser, "done"))
    else:
        raise AssertionError("the study did not finish")

    with page.ledger.transaction():
        counts = page.ledger._db.execute(
            "SELECT b.stream, COUNT(*), COUNT(DISTINCT r.trial_id || r.answer_index) "
            "FROM ratings r JOIN trials t ON t.trial_id = r.trial_id JOIN batches b "
            "ON b.batch_id = t.batch_id WHERE r.source = 'person' GROUP BY b.stream"
        ).fetchall()
        (responses,) = page.ledger._db.execute("SELECT COUNT(*) FROM responses").fetchone()
    per_stream = {stream: (n, distinct) for stream, n, distinct in counts}
    assert per_stream["method"] == (120, 120) and per_stream["listening"] == (50, 50)
    assert responses == sum(n for n, _ in per_stream.values())  # every one used, none twice
    assert main(["study", "resume", str(study.folder)]) == 0
    out = capsys.readouterr().out
    assert "metrics against the truth are not computed" in out
    row = json.loads((study.folder / "metrics.json").read_text())
    assert row["answered_by"] == "people" and "mmd2" not in row
    assert 0 <= row["listening_mean"] <= 1
    for name in ("listening.png", "participants.csv", "SCORING.md", "samples.npy"):
        assert (study.folder / name).exists(), name


def check_offline_answer(browser, page, answers, participant_id):
    trial_id = browser.execute_script("return document.querySelector('#trial').dataset.trialId")
    browser.execute_async_script(PREPARE, answers, 1)  # sounds played, sliders set
    browser.execute_cdp_cmd("Network.enable", {})
    offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", offline)
    browser.execute_script("document.querySelector('#next').click()")
    time.sleep(0.3)
    outbox = json.loads(browser.execute_script("return localStorage.getItem('hdbench.outbox')"))
    assert [a["trial_id"] for a in outbox] == [trial_id]
    assert "saving 1 answer" in browser.find_element("id", "saving").text
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {**offline, "offline": False})
    wait_for(
        browser,
        lambda: browser.execute_script("return localStorage.getItem('hdbench.outbox')") == "[]",
    )
    (count,) = page.ledger._db.execute(
        "SELECT COUNT(DISTINCT nonce) FROM responses WHERE trial_id = ? AND participant_id = ?",
        (trial_id, participant_id),
    ).fetchone()
    assert count == 1
    assert "all answers saved" in browser.find_element("id", "saving").text


def take_screenshot(browser, answers):
    """A paired trial with both sounds played and rated (the README's figure), after a few
    trials, at the first whose two ratings differ; written where HDBENCH_SCREENSHOT says, else
    to a temporary file."""
    for _ in range(12):
        trial = browser.execute_script("return document.querySelector('#trial').dataset.trialId")
        values = answers[trial]
        if len(values) == 2 and min(values) > 0.15 and max(values) - min(values) > 0.15:
            break
        assert browser.execute_async_script(ANSWER_SESSION, answers, 1) == 1
    assert browser.execute_async_script(PREPARE, answers, 1) == 0
    path = Path(os.environ.get("HDBENCH_SCREENSHOT") or tempfile.mktemp(suffix=".png"))
    path.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(path))
