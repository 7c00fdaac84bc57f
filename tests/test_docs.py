"""The documentation site builds in strict mode: a broken link, a missing anchor or a page left
out of the navigation fails the build, and with it this test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("mkdocs", reason="the docs extra is not installed")


def build(config: Path, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config)]
    return subprocess.run(
        [*command, "--site-dir", str(site)], capture_output=True, text=True, env=env, cwd=ROOT
    )


def test_the_site_builds_strictly_with_its_generated_reference(tmp_path):
    done = build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert done.returncode == 0, done.stderr
    cli = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text()
    assert "hdbench compare" in cli and "--eval-samples" in cli
    specs = (tmp_path / "site" / "reference" / "specs" / "index.html").read_text()
    assert "noise_sd" in specs and "method_params" in specs


def test_a_broken_internal_link_fails_the_build(tmp_path):
    """The project's own validation settings, on a page that links to nothing."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Home\n\nSee [the missing page](missing.md#nowhere).\n")
    ours = (ROOT / "mkdocs.yml").read_text()
    validation = ours[ours.index("validation:") : ours.index("exclude_docs:")]
    config = tmp_path / "mkdocs.yml"
    config.write_text(f"site_name: t\ndocs_dir: {docs}\n{validation}")
    done = build(config, tmp_path / "site")
    assert done.returncode != 0
    assert "missing.md" in done.stderr
