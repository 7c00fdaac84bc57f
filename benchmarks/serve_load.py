"""Load and faults on the listening page: 50 scripted participants, 10,000 answers, two kill -9.

    .venv/bin/python benchmarks/serve_load.py [--participants 50] [--out results/perf]

A vowel_a HumanDiffusion study whose first batch is 10,000 paired trials (100 real tokens × 10
periphery points × R = 10) is served by `hdbench serve` on 127.0.0.1 (screening off, so that
every answer is one of the method's; no sound is fetched or rendered: this measures the answer
path). 50 participants, each a thread with its own connection,
join, take sessions of 30 leased trials and answer each trial once, retrying an answer that is
not acknowledged (a refused connection, a reset) with the same nonce until it is. When a third
and two thirds of the answers are acknowledged the server is killed with SIGKILL and started
again. At the end the ledger is read: every acknowledged answer must be there, no trial may be
answered twice. Prints throughput and latency and writes serve_load.json. Not a test: it takes a
few minutes; its numbers are in the README.
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
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HDBENCH = [sys.executable, "-m", "hdbench.cli"]
NUM_TRIALS = 10_000
PARAMS = ["--set=num_periphery=10", "--set=R=10", "--set=train_steps=10", "--set=num_steps=10"]
TIME_LIMIT = 1200.0  # s: the whole benchmark stops by then, whatever happens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`hdbench serve` in a subprocess, killed with SIGKILL and started again on demand."""

    def __init__(self, folder: Path, port: int) -> None:
        self.folder, self.port = folder, port
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> None:
        command = [*HDBENCH, "serve", str(self.folder), "--port", str(self.port)]
        command += ["--screening-rate", "0", "--lease-minutes", "60", "--no-prefetch"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
        )

    def kill_and_restart(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.restarts += 1
        self.start()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Participant(threading.Thread):
    """Joins, then takes sessions and answers every trial until none is left."""

    def __init__(self, port: int, deadline: float, tally: dict) -> None:
        super().__init__(daemon=True)
        self.port, self.deadline, self.tally = port, deadline, tally
        self.acknowledged: list[tuple[str, str]] = []
        self.latencies: list[float] = []  # s, per acknowledged answer (retries included)
        self.clean: list[float] = []  # s, the answers acknowledged at the first try
        self.retries = 0
        self.connection: http.client.HTTPConnection | None = None

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        """POST until the server answers at all; returns its status and JSON."""
        while time.monotonic() < self.deadline:
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.connection.request(
                    "POST", path, json.dumps(body), {"Content-Type": "application/json"}
                )
                response = self.connection.getresponse()
                return response.status, json.loads(response.read() or b"{}")
            except (OSError, http.client.HTTPException):
                self.retries += 1
                self.connection = None
                time.sleep(0.05)
        raise TimeoutError("the benchmark's time limit passed")

    def run(self) -> None:
        try:
            self.answer_all()
        finally:
            if self.connection is not None:
                self.connection.close()

    def answer_all(self) -> None:
        status, data = self.post("/api/participants", {"consent": True})
        token = data["token"]
        rng = np.random.default_rng(abs(hash(token)) % 2**32)
        while True:
            status, session = self.post("/api/session", {"token": token})
            if status == 409:  # nothing left to lease
                return
            for trial in session["trials"]:
                if trial["answered"]:
                    continue
                values = rng.uniform(0, 1, len(trial["order_shown"])).round(2).tolist()
                body = {"token": token, "trial_id": trial["trial_id"], "values": values}
                body["nonce"] = uuid.uuid4().hex
                started, retries = time.perf_counter(), self.retries
                status, data = self.post("/api/answer", body)
                if status != 200:
                    raise AssertionError(f"answer refused: {status} {data}")
                self.latencies.append(time.perf_counter() - started)
                if self.retries == retries:
                    self.clean.append(self.latencies[-1])
                self.acknowledged.append((trial["trial_id"], body["nonce"]))
                with self.tally["lock"]:
                    self.tally["count"] += 1


def make_study(folder: Path) -> None:
    command = [*HDBENCH, "study", "start", str(folder), "--oracle", "vowel_a"]
    subprocess.run(
        [*command, "--method", "humandiffusion", *PARAMS], check=True, cwd=ROOT, timeout=600
    )


def check_ledger(folder: Path, acknowledged: list[tuple[str, str]]) -> dict:
    import sqlite3

    db = sqlite3.connect(folder / "ledger.sqlite")
    stored = set(db.execute("SELECT DISTINCT trial_id, nonce FROM responses").fetchall())
    (twice,) = db.execute(
        "SELECT COUNT(*) FROM (SELECT trial_id FROM responses GROUP BY trial_id "
        "HAVING COUNT(DISTINCT participant_id) > 1 OR COUNT(DISTINCT nonce) > 1)"
    ).fetchone()
    (values,) = db.execute("SELECT COUNT(*) FROM responses").fetchone()
    return {
        "acknowledged_found": sum(a in stored for a in acknowledged),
        "trials_answered_twice": twice,
        "values_stored": values,
        "answers_stored": len(stored),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=50)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "perf")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="hdbench-load-"))
    folder = scratch / "study"
    make_study(folder)
    server = Server(folder, free_port())
    server.start()
    tally = {"count": 0, "lock": threading.Lock()}
    started = time.monotonic()
    deadline = started + TIME_LIMIT
    participants = [Participant(server.port, deadline, tally) for _ in range(args.participants)]
    for participant in participants:
        participant.start()
    kills = [NUM_TRIALS // 3, 2 * NUM_TRIALS // 3]
    while any(p.is_alive() for p in participants) and time.monotonic() < deadline:
        if kills and tally["count"] >= kills[0]:
            kills.pop(0)
            server.kill_and_restart()
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    server.stop()
    acknowledged = [a for p in participants for a in p.acknowledged]
    latencies = np.array([t for p in participants for t in p.latencies])
    clean = np.array([t for p in participants for t in p.clean])
    result = {
        "participants": args.participants,
        "acknowledged": len(acknowledged),
        **check_ledger(folder, acknowledged),
        "server_kills": server.restarts,
        "connection_retries": sum(p.retries for p in participants),
        "seconds": round(elapsed, 1),
        "answers_per_second": round(len(acknowledged) / elapsed, 1),
        "latency_p50_ms": round(1000 * float(np.percentile(latencies, 50)), 1),
        "latency_p95_ms": round(1000 * float(np.percentile(latencies, 95)), 1),
        "latency_max_ms": round(1000 * float(latencies.max()), 1),
        "first_try_p95_ms": round(1000 * float(np.percentile(clean, 95)), 1),
        "answers_retried": len(latencies) - len(clean),
    }
    shutil.rmtree(scratch)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serve_load.json").write_text(json.dumps(result, indent=2) + "\n")
    for key, value in result.items():
        print(f"{key:<22} {value}")
    ok = (
        result["acknowledged"] == NUM_TRIALS
        and result["acknowledged_found"] == NUM_TRIALS
        and result["trials_answered_twice"] == 0
    )
    print("all acknowledged answers stored, none twice" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
