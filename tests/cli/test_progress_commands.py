"""Progress of long commands on stderr without a terminal (stderr a pipe): plain "neuromanifold:" lines through
neuromanifold.runtime.progress, never on stdout, silenced by --quiet; honest totals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import neuromanifold.runtime.progress as progress_mod
from neuromanifold.runtime.progress import Bar

VORONOI = ["voronoi", "mlp(widths=(2,1,1), r=2)", "--samples", "8000", "--json"]  # 3-8 s of work on 2 cores (> DELAY)


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, NEUROMANIFOLD_PROGRESS_INTERVAL="0.5")
    return subprocess.run([sys.executable, "-m", "neuromanifold.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def progress_lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("neuromanifold:") and "estimate:" not in ln]


def test_voronoi_progress_without_a_tty_json_stdout_clean():
    proc = run(*VORONOI)
    assert proc.returncode == 0, proc.stderr
    lines = progress_lines(proc.stderr)
    assert lines, proc.stderr
    batches = [ln for ln in lines if "voronoi:" in ln]  # other lines: the solve before the sampling
    assert batches and all("/40 batches" in ln for ln in batches), lines  # honest total: 8000 targets / 200 per batch
    assert "\r" not in proc.stderr  # plain lines, no tqdm bar off a terminal
    assert json.loads(proc.stdout)["metric"] == "euclidean"  # stdout is the JSON alone


def test_quiet_silences_progress():
    proc = run(*VORONOI, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert not progress_lines(proc.stderr), proc.stderr
    json.loads(proc.stdout)


def test_bar_prints_plain_lines_with_total_and_rate(monkeypatch, capsys):
    monkeypatch.setattr(progress_mod, "DELAY", 0.2)
    monkeypatch.setattr(progress_mod, "INTERVAL", 0.2)
    for _ in Bar(range(6), desc="epochs x seeds", unit="epochs"):
        time.sleep(0.15)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("neuromanifold: epochs x seeds:")]
    assert lines and lines[-1].endswith("(done)") and "6/6 epochs" in lines[-1], err
    assert "epochs/s" in lines[-1]
    for _ in Bar(iter(range(3)), desc="unknown total", unit="steps"):  # no len: counts and rates, no "/"
        time.sleep(0.15)
    err = capsys.readouterr().err
    last = [ln for ln in err.splitlines() if "unknown total" in ln][-1]
    assert "3 steps" in last and "/3" not in last, err


def test_bar_disabled_is_silent(capsys):
    bar = Bar(total=3, desc="off", enabled=False)
    bar.update(3)
    bar.close()
    assert capsys.readouterr().err == ""
