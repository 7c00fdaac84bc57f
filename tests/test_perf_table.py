"""The speed table reads `make perf`'s and `make perf-suites`' files together and judges each
goal in its own direction."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "perf_table.py"


def benchmark(name: str, seconds: float) -> dict:
    return {"name": name, "stats": {"mean": seconds}, "extra_info": {}}


def write(path: Path, *benchmarks: dict) -> Path:
    info = {"cpu": {"brand_raw": "test CPU", "count": 2}}
    path.write_text(
        json.dumps({"machine_info": info, "datetime": "2026-12-06", "benchmarks": benchmarks})
    )
    return path


def rows(text: str) -> dict[str, list[str]]:
    cells = [line.strip("|").split("|") for line in text.splitlines() if line.startswith("| ")]
    return {c[0].strip(): [x.strip() for x in c[1:]] for c in cells}


def test_suites_rows_join_the_table_and_a_ratio_goal_is_a_lower_bound(tmp_path):
    perf = write(tmp_path / "benchmarks.json", benchmark("test_calibration_matrix_product", 0.005))
    suites = write(
        tmp_path / "suites.json",
        benchmark("test_suite_wall_time[bench]", 400.0),
        benchmark("test_suite_wall_time[bench_fixed]", 900.0),
        benchmark("test_suite_wall_time[sweep]", 600.0),
    )
    out = subprocess.run(
        [sys.executable, str(SCRIPT), str(perf), str(suites)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    table = rows(out)
    bench = next(v for k, v in table.items() if k.startswith("`make bench`"))
    assert bench == ["6 min 40 s", "8e+04", "≤ 8 min", "yes"]
    assert table["… fixed chains / chains stopped when stationary"] == [
        "2.25",
        "",
        "≥ 2.5",
        "**no**",
    ]
    sweep = next(v for k, v in table.items() if k.startswith("`make sweep`"))
    assert sweep[-1] == "**no**"
    assert (tmp_path / "speed.md").read_text().endswith(out.split("\n\n", 1)[1])


def test_without_a_calibration_the_units_are_left_blank(tmp_path):
    suites = write(tmp_path / "suites.json", benchmark("test_suite_wall_time[sweep]", 300.0))
    out = subprocess.run(
        [sys.executable, str(SCRIPT), str(suites)], capture_output=True, text=True, check=True
    ).stdout
    sweep = rows(out)["`make sweep` (320 runs), start to exit"]
    assert sweep == ["5 min", "", "≤ 8 min", "yes"]
