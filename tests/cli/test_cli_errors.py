"""Bad input and unwritable outputs: one line on stderr, exit 2, no traceback, nothing computed lost;
the cost guard of analyze (issue 17 items 5 and 8)."""

from __future__ import annotations

import argparse
import importlib.metadata
import subprocess
import sys

import pytest

import neuromanifold as nm
from neuromanifold.cli import _figure_path, build_parser
from neuromanifold.errors import InputError, SpecError


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neuromanifold.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    """The stderr lines that are not cost estimates; asserts no traceback and exit status 2."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and not ln.startswith("neuromanifold: estimate:")]
    assert len(lines) == 1, proc.stderr
    return lines


def test_huge_width_is_a_spec_error_with_the_cap():
    (line,) = error_lines(run("analyze", "mlp(widths=(12345678901234567890,2,1), r=2)"))
    assert "widths must be <= 10000" in line and "valid form: mlp(" in line
    with pytest.raises(SpecError, match="<= 10000"):
        nm.parse_spec("cnn(k=(2,99999999999999999999), s=(1,1))")
    assert nm.parse_spec("mlp(widths=(10000,1), r=1)").n_params == 10000  # the cap itself is allowed


def test_slice_out_with_unsupported_extension_refused_before_computing(tmp_path):
    (line,) = error_lines(run("slice", "attention(d=2, dout=1, a=2, t=2)", "--out", str(tmp_path / "x.txt"),
                              timeout=60))
    assert "unsupported extension .txt" in line and ".png" in line and ".pdf" in line
    assert not list(tmp_path.iterdir())


def test_figure_out_directory_names_the_file_written(tmp_path):
    assert _figure_path(str(tmp_path), "slice.png") == tmp_path / "slice.png"
    assert _figure_path(str(tmp_path / "f.svg"), "slice.png") == tmp_path / "f.svg"
    with pytest.raises(InputError, match="unsupported extension"):
        _figure_path(str(tmp_path / "noext"), "slice.png")


def test_html_to_dev_full_prints_results_then_one_line():
    proc = run("analyze", "linear(widths=(2,1,2))", "--only", "dimension", "--html", "/dev/full")
    (line,) = error_lines(proc)
    assert "--html /dev/full: cannot write" in line
    assert "dimension" in proc.stdout and "certified" in proc.stdout  # the results were not lost


def test_html_wrong_extension_and_directory(tmp_path):
    (line,) = error_lines(run("analyze", "linear(widths=(2,1,2))", "--only", "dimension", "--html",
                              str(tmp_path / "r.txt")))
    assert "unsupported extension" in line and ".html" in line
    (line,) = error_lines(run("analyze", "linear(widths=(2,1,2))", "--html", str(tmp_path)))
    assert "is a directory" in line


def test_cost_guard_refuses_then_runs_with_a_budget():
    proc = run("analyze", "mlp(widths=(4,4,4), r=2)", "--only", "degree", timeout=60)
    (line,) = error_lines(proc)
    assert "--force" in line and "--budget" in line and "2.29e+13" in line
    assert "neuromanifold: estimate: degree" in proc.stderr
    proc = run("analyze", "mlp(widths=(4,4,4), r=2)", "--only", "degree", "--budget", "5", "--json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    import json

    deg = json.loads(proc.stdout)["invariants"]["degree"]
    assert deg["status"] in ("lower_bound", "not_computed")  # labelled, never a bare number
    with pytest.raises(InputError, match="--force"):
        nm.analyze("mlp(widths=(4,4,4), r=2)", only="degree")


def test_cost_estimates_below_the_cap_for_the_documented_examples():
    from neuromanifold.invariants.cost import COST_CAP, cost_estimates
    from neuromanifold.context import Context

    (e,) = cost_estimates(Context("cnn(k=(2,2,2,2), s=(1,1,1,1), r=2)"), ["degree"])
    assert 1536 <= e["bound"] <= COST_CAP  # its degree is 1536: the bound is an upper bound and lets it run
    (e,) = cost_estimates(Context("mlp(widths=(2,1,1), r=3)"), ["ed_degree"])
    assert e["bound"] == 49  # (2*4 - 1)^2, the Bezout number of its critical-point system
    assert cost_estimates(Context("mlp(widths=(4,4,4), r=2)"), ["dimension"]) == []


def test_version_single_sourced():
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"neuromanifold {importlib.metadata.version('neuromanifold')}"
    assert nm.__version__ == importlib.metadata.version("neuromanifold")


def _parsers(p: argparse.ArgumentParser, name: str = "neuromanifold"):
    yield name, p
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_option_has_help_text():
    missing = []
    n = 0
    for name, p in _parsers(build_parser()):
        for action in p._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) or action.help == argparse.SUPPRESS:
                continue
            n += 1
            if not (action.help or "").strip():
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert n > 50 and not missing, missing


def test_critical_cost_guard_refuses_beyond_the_cap(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    np.save(tmp_path / "X.npy", rng.standard_normal((10, 4)))
    np.save(tmp_path / "Y.npy", rng.standard_normal((10, 4)))
    proc = run("critical", "mlp(widths=(4,4,4), r=2)", str(tmp_path / "X.npy"), str(tmp_path / "Y.npy"), "--json",
               timeout=120)
    (line,) = error_lines(proc)
    assert "--force" in line and "3.73e+19" in line and "cap" in line
    est = [ln for ln in proc.stderr.splitlines() if ln.startswith("neuromanifold: estimate: critical")]
    assert len(est) == 1 and "upper bound" in est[0] and "Bezout" in est[0]
    assert proc.stdout == ""
    with pytest.raises(InputError, match="--force"):
        nm_critical = __import__("neuromanifold.landscape.critical_points", fromlist=["critical_points"]).critical_points
        nm_critical("mlp(widths=(4,4,4), r=2)", np.load(tmp_path / "X.npy"), np.load(tmp_path / "Y.npy"))


def test_critical_estimate_below_the_cap_runs():
    from neuromanifold.landscape.critical_points import critical_points

    import numpy as np

    rng = np.random.default_rng(1)
    seen = []
    res = critical_points("mlp(widths=(2,2,1), r=2)", rng.standard_normal((12, 2)), rng.standard_normal((12, 1)),
                          on_estimate=seen.append)
    (e,) = seen
    assert e["bound"] == 100 and "total-degree" in e["method"]  # 4 * 5 * 5 paths
    assert res.counts["complex"] <= e["bound"]


def test_slice_refuses_a_big_network_naming_force():
    proc = run("slice", "mlp(widths=(4,4,4), r=2)", timeout=120)
    (line,) = error_lines(proc)
    assert "--force" in line and "degree" in line
    from neuromanifold.slices import plane_slice

    with pytest.raises(InputError, match="--force"):
        plane_slice("mlp(widths=(4,4,4), r=2)")


def test_slice_force_reaches_the_cost_guard(monkeypatch):
    import neuromanifold.invariants.cost as cost

    assert build_parser().parse_args(["slice", "mlp(widths=(4,4,4), r=2)", "--force"]).force is True
    calls = []

    def fake_check(ctx, names, *a, **kw):
        calls.append(list(names))
        raise InputError("guard reached")

    monkeypatch.setattr(cost, "check_cost", fake_check)
    from neuromanifold.slices import plane_slice, surface_slice

    for f in (plane_slice, surface_slice):
        with pytest.raises(InputError, match="guard reached"):  # without force the guard runs first
            f("mlp(widths=(2,1,1), r=2)")
        assert calls.pop() == ["degree"]
    # with force the guard is skipped (the slice then runs; a small one finishes)
    plane_slice("mlp(widths=(2,1,1), r=2)", force=True, n_lines=3)
    assert calls == []


def test_output_files_are_replaced_atomically(tmp_path, monkeypatch):
    """Ctrl-C while an output file (--html, export -o) is written leaves the old file whole and no temporary."""
    import os

    from neuromanifold.cli import common

    target = tmp_path / "out.m2"
    target.write_text("old")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        common.write_text(str(target), "--output", "new " * 1000)
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.m2"]
    monkeypatch.undo()
    common.write_text(str(target), "--output", "new")
    assert target.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["out.m2"]
