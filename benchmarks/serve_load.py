"""Load, hoarding and faults on the listening page: scripted participants over HTTP against
`hdbench serve` in a subprocess, as a browser would use it.

    .venv/bin/python benchmarks/serve_load.py [--participants 200] [--seconds 90] [--out DIR]

Each participant is a thread with its own connection and its own signed invitation: it
registers, passes the headphone check (its answers from the server's seeded key, read with the
study's secret), finishes training, then takes sessions of leased trials; for each trial it
fetches every sound, waits as a person would (`pace` seconds, drawn uniformly), and sends its
answer, retrying one not acknowledged (a refused connection, a reset, a 503) with the same nonce
until it is. A hoarder holds one invitation and registers 300 times with it, and tries links
without one. The server may be killed with SIGKILL and started again at given shares of the
answers. At the end the ledger is read: every acknowledged answer must be there, none twice, no
trial answered by two people.

Scenarios (`make perf` runs the first two through benchmarks/test_serve_speed.py):
- human pace: 200 participants, one answer every 5–15 s, both sounds fetched first;
- flat out: 50 participants answering as fast as the server lets them, `--no-prefetch`, every
  answer's two sounds rendered afresh (each trial's stimuli are its own);
- the test (tests/serve/test_load.py): 10 participants, a hoarder and two kills, on 200 trials.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HDBENCH = [sys.executable, "-m", "hdbench.cli"]
WAIT = 600.0  # s: the whole run stops by then, whatever happens
HOARDER_REGISTRATIONS = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_study(folder: Path, num_periphery: int, R: int) -> None:
    """A vowel_a HumanDiffusion study waiting for its first batch: 100 real tokens ×
    `num_periphery` × `R` paired trials."""
    params = [f"--set=num_periphery={num_periphery}", f"--set=R={R}"]
    params += ["--set=train_steps=10", "--set=num_steps=10"]
    command = [*HDBENCH, "study", "start", str(folder), "--oracle", "vowel_a", "--method"]
    subprocess.run(
        [*command, "humandiffusion", *params],
        check=True,
        cwd=ROOT,
        timeout=WAIT,
        stdout=subprocess.DEVNULL,
    )


class Server:
    """`hdbench serve` in a subprocess, killed with SIGKILL and started again on demand."""

    def __init__(self, folder: Path, invitations: int, extra: list[str]) -> None:
        self.folder, self.port = folder, free_port()
        self.command = [*HDBENCH, "serve", str(folder), "--port", str(self.port)]
        self.command += ["--invitations", str(invitations), "--screening-rate", "0"]
        self.command += ["--lease-minutes", "60", *extra]
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self.output: list[str] = []

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT, text=True
        )
        # Its first line comes once the study is open: read what it prints.
        self.output.append(self.process.stdout.readline())
        threading.Thread(target=self._drain, args=(self.process,), daemon=True).start()

    def _drain(self, process) -> None:
        for line in process.stdout:
            self.output.append(line)

    def kill_and_restart(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.restarts += 1
        self.start()

    def terminate(self) -> int:
        """SIGTERM; the exit status (waits for the process to end)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


class Client:
    """One keep-alive connection; requests retried while the server is down."""

    def __init__(self, port: int, deadline: float) -> None:
        self.port, self.deadline = port, deadline
        self.connection: http.client.HTTPConnection | None = None
        self.retries = 0

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        while time.monotonic() < self.deadline:
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                data = None if body is None else json.dumps(body)
                headers = {} if body is None else {"Content-Type": "application/json"}
                self.connection.request(method, path, data, headers)
                response = self.connection.getresponse()
                content = response.read()
                if response.status == 503:  # a sound refused while the server stops
                    raise ConnectionResetError
                return response.status, content
            except (OSError, http.client.HTTPException):
                self.retries += 1
                if self.connection is not None:
                    self.connection.close()
                self.connection = None
                time.sleep(0.05)
        raise TimeoutError("the run's time limit passed")

    def json(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        status, content = self.request(method, path, body)
        return status, json.loads(content or b"{}")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: int = 0


class Participant(threading.Thread):
    """Registers with its invitation, qualifies, and answers sessions until told to stop or
    nothing is left."""

    def __init__(self, port, invitation, secret, pace, fetch, seed, deadline, tally, stop):
        super().__init__(daemon=True)
        self.client = Client(port, deadline)
        self.invitation, self.secret, self.pace, self.fetch = invitation, secret, pace, fetch
        self.rng = np.random.default_rng(seed)
        self.tally, self.stop = tally, stop
        self.acknowledged: list[tuple[str, str, str]] = []  # (participant, handle, nonce)
        self.answer_latencies: list[float] = []  # s, per acknowledged answer, retries included
        self.sound_latencies: list[float] = []
        self.acknowledged_at: list[float] = []  # time.monotonic() of each acknowledgement
        self.lapsed = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.answer_all()
        except BaseException as error:  # reported by the caller
            self.error = error
        finally:
            self.client.close()

    def qualify(self) -> tuple[str, str]:
        from hdbench.serve.headphones import answer_key

        body = {"consent": True, "invitation": self.invitation}
        status, data = self.client.json("POST", "/api/participants", body)
        assert status == 200, data
        token = data["token"]
        participant_id = token.split(".")[0]
        if data["stage"] == "consented":
            body = {"token": token, "answers": answer_key(self.secret, participant_id)}
            assert self.client.json("POST", "/api/headphones", body)[1]["passed"]
        self.client.json("POST", "/api/trained", {"token": token})
        return token, participant_id

    def answer_all(self) -> None:
        token, participant_id = self.qualify()
        while not self.stop.is_set():
            status, session = self.client.json("POST", "/api/session", {"token": token})
            if status == 409:  # nothing left to lease
                return
            assert status == 200, session
            for trial in session["trials"]:
                if trial["answered"]:
                    continue
                if self.stop.wait(self.rng.uniform(*self.pace) if self.pace[1] else 0):
                    return
                self.answer(token, participant_id, trial)

    def answer(self, token: str, participant_id: str, trial: dict) -> None:
        handle = trial["trial_id"]
        if self.fetch:
            for shown in range(trial["num_sounds"]):
                started = time.perf_counter()
                status, wav = self.client.request(
                    "GET", f"/api/audio/{handle}/{shown}?token={token}"
                )
                if status == 410:
                    self.lapsed += 1
                    return
                assert status == 200 and wav[:4] == b"RIFF", status
                self.sound_latencies.append(time.perf_counter() - started)
        values = self.rng.uniform(0, 1, trial["num_sounds"]).round(2).tolist()
        body = {"token": token, "trial_id": handle, "values": values, "nonce": uuid.uuid4().hex}
        started = time.perf_counter()
        status, data = self.client.json("POST", "/api/answer", body)
        if status == 410:
            self.lapsed += 1
            return
        assert status == 200, data
        self.answer_latencies.append(time.perf_counter() - started)
        self.acknowledged_at.append(time.monotonic())
        self.acknowledged.append((participant_id, handle, body["nonce"]))
        with self.tally.lock:
            self.tally.answers += 1


def hoard(port: int, invitation: str, deadline: float) -> dict:
    """300 registrations with one invitation, 20 without, then sessions: what it got."""
    client = Client(port, deadline)
    tokens, refused = set(), 0
    for _ in range(HOARDER_REGISTRATIONS):
        status, data = client.json(
            "POST", "/api/participants", {"consent": True, "invitation": invitation}
        )
        tokens.add(data.get("token"))
    for _ in range(20):
        status, _ = client.json("POST", "/api/participants", {"consent": True})
        refused += status == 403
    token = next(iter(tokens))
    leased = set()
    for _ in range(20):
        status, data = client.json("POST", "/api/session", {"token": token})
        leased |= {t["trial_id"] for t in data.get("trials", [])}
    client.close()
    return {
        "participants": len(tokens),
        "refused_without_invitation": refused,
        "trials": len(leased),
    }


def ledger_check(folder: Path, acknowledged: list[tuple[str, str, str]]) -> dict:
    """Every acknowledged answer found in the ledger; answers stored twice; trials answered by
    more than one person."""
    from hdbench.studies.ledger import Ledger
    from hdbench.studies.people import responses_table

    with Ledger(folder / "ledger.sqlite", create=False) as ledger:
        table = responses_table(ledger)
        stored = set(zip(table["trial_id"], table["participant_id"], table["nonce"], strict=True))
        found = sum((ledger.trial_of_handle(p, h), p, n) in stored for p, h, n in acknowledged)
    per_trial = table.groupby("trial_id").agg(
        people=("participant_id", "nunique"), nonces=("nonce", "nunique")
    )
    return {
        "acknowledged_found": found,
        "answers_stored_twice": int((per_trial["nonces"] > 1).sum()),
        "trials_answered_by_two": int((per_trial["people"] > 1).sum()),
        "answers_stored": len(per_trial),
    }


def percentile_ms(values: list[float], q: float) -> float:
    return round(1000 * float(np.percentile(values, q)), 1) if values else float("nan")


def run_load(
    folder: Path,
    num_participants: int,
    pace: tuple[float, float],
    fetch: bool,
    seconds: float | None = None,
    kills_at: tuple[int, ...] = (),
    hoarder: bool = False,
    prefetch: bool = True,
    session_size: int = 30,
) -> dict:
    """Serve the study in `folder` to scripted participants; their figures and the ledger's."""
    from hdbench.serve.tokens import Signer, load_secret

    secret = load_secret(folder)
    signer = Signer(secret)
    extra = ["--session-size", str(session_size)] + ([] if prefetch else ["--no-prefetch"])
    server = Server(folder, num_participants + 1, extra)
    server.start()
    tally, stop = Tally(), threading.Event()
    started = time.monotonic()
    deadline = started + WAIT
    participants = [
        Participant(
            server.port, signer.invitation(str(i)), secret, pace, fetch, i, deadline, tally, stop
        )
        for i in range(num_participants)
    ]
    for participant in participants:
        participant.start()
    hoarded: dict = {}
    hoarding = threading.Thread(
        target=lambda: hoarded.update(
            hoard(server.port, signer.invitation(str(num_participants)), deadline)
        ),
        daemon=True,
    )
    if hoarder:
        hoarding.start()
    kills = list(kills_at)
    while any(p.is_alive() for p in participants) and time.monotonic() < deadline:
        if seconds is not None and time.monotonic() - started > seconds:
            stop.set()
        if kills and tally.answers >= kills[0]:
            kills.pop(0)
            server.kill_and_restart()
        time.sleep(0.01)
    stop.set()
    elapsed = time.monotonic() - started
    if hoarder:
        hoarding.join(WAIT)
    exit_status = server.terminate()
    errors = [repr(p.error) for p in participants if p.error is not None]
    acknowledged = [a for p in participants for a in p.acknowledged]
    answers = [t for p in participants for t in p.answer_latencies]
    sounds = [t for p in participants for t in p.sound_latencies]
    times = sorted(t for p in participants for t in p.acknowledged_at)
    # From the first answer to the last: the server's rate once everyone is in.
    steady = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else float("nan")
    return {
        "participants": num_participants,
        "acknowledged": len(acknowledged),
        "participants_answered": sum(bool(p.acknowledged) for p in participants),
        **ledger_check(folder, acknowledged),
        "lapsed": sum(p.lapsed for p in participants),
        "errors": errors,
        "server_kills": server.restarts,
        "exit_status_on_sigterm": exit_status,
        "server_output": "".join(server.output),
        "hoarder": hoarded,
        "seconds": round(elapsed, 1),
        "answers_per_second": round(len(acknowledged) / elapsed, 1),
        "steady_answers_per_second": round(steady, 1),
        "answer_p50_ms": percentile_ms(answers, 50),
        "answer_p95_ms": percentile_ms(answers, 95),
        "sound_p50_ms": percentile_ms(sounds, 50),
        "sound_p95_ms": percentile_ms(sounds, 95),
        "sounds_fetched": len(sounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=90.0, help="of human-pace answering")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "perf")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="hdbench-load-"))
    try:
        make_study(scratch / "template", num_periphery=10, R=10)  # 10,000 trials
        results = {}
        shutil.copytree(scratch / "template", scratch / "human")
        results["human_pace"] = run_load(
            scratch / "human", args.participants, (5.0, 15.0), True, args.seconds, hoarder=True
        )
        shutil.copytree(scratch / "template", scratch / "flat")
        results["flat_out"] = run_load(scratch / "flat", 50, (0.0, 0.0), True, 30.0, prefetch=False)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serve_load.json").write_text(json.dumps(results, indent=2) + "\n")
    for name, result in results.items():
        print(name)
        for key, value in result.items():
            if key != "server_output":
                print(f"  {key:<26} {value}")


if __name__ == "__main__":
    main()
