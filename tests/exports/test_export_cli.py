"""``neuromanifold export``: output to stdout or a file, the seed, user data, and bad input as one line on stderr
with exit status 2 and no traceback (in-process through ``cli.main``; one subprocess run checks the real entry
point)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from neuromanifold.cli import main

ATT = "attention(d=2, dout=1, a=2, t=2)"


def one_error_line(capsys, *argv: str) -> str:
    code = main(["export", *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_export_to_stdout_and_to_a_file(capsys, tmp_path):
    assert main(["export", ATT, "--system", "degree", "--format", "phc"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].strip() == "5" and "EXPECTED:" in out
    path = tmp_path / "sub" / "att.m2"
    assert main(["export", ATT, "--system", "ed", "--format", "m2", "--metric", "euclidean", "-o", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "wrote the ed system" in captured.err
    text = path.read_text()
    assert text.startswith("-- neuromanifold export: the ed system") and "euclidean" in text


def test_seed_reaches_the_numbers(capsys):
    texts = []
    for seed in ("0", "1", "0"):
        assert main(["export", ATT, "--system", "degree", "--format", "bertini", "--seed", seed]) == 0
        texts.append(capsys.readouterr().out)
    assert texts[0] == texts[2] != texts[1]


def test_critical_with_a_data_set(capsys, tmp_path):
    X, Y = tmp_path / "X.npy", tmp_path / "Y.csv"
    np.save(X, np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 1.0], [-1.0, 3.0], [1.0, -2.0]]))
    np.savetxt(Y, np.array([[1.0], [2.0], [-1.0], [0.5], [3.0]]), delimiter=",")
    assert main(["export", "mlp(widths=(2,1,1), r=3)", "--system", "critical", "--format", "hc",
                 "--X", str(X), "--Y", str(Y)]) == 0
    assert "mean-squared loss on 5 samples" in capsys.readouterr().out


@pytest.mark.parametrize("argv,needle", [
    (["--system", "volume", "--format", "m2"], "unknown --system 'volume'; choose one of degree, ed, critical"),
    (["--system", "degree", "--format", "maple"], "unknown --format 'maple'; choose one of m2, hc, bertini, phc"),
    (["--system", "ed", "--format", "m2", "--metric", "l1"], "unknown --metric 'l1'"),
    (["--system", "degree", "--format", "m2", "--metric", "euclidean"], "--metric applies to --system ed only"),
    (["--system", "ed", "--format", "m2", "--X", "a.npy", "--Y", "b.npy"], "apply to --system critical only"),
    (["--system", "critical", "--format", "m2", "--X", "a.npy"], "give both --X and --Y"),
    (["--system", "critical", "--format", "m2", "--X", "nope.npy", "--Y", "nope.npy"], "does not exist"),
])
def test_bad_choices(capsys, argv, needle):
    assert needle in one_error_line(capsys, ATT, *argv)


def test_bad_specs_and_outputs(capsys, tmp_path):
    line = one_error_line(capsys, "transformer(d=2)", "--system", "degree", "--format", "m2")
    assert "unknown architecture 'transformer'" in line
    line = one_error_line(capsys, "mlp(widths=(8,8,8), r=2)", "--system", "degree", "--format", "m2")
    assert "choose smaller widths" in line
    line = one_error_line(capsys, "relu(widths=(2,2,1))", "--system", "ed", "--format", "phc")
    assert "not polynomial" in line
    line = one_error_line(capsys, ATT, "--system", "degree", "--format", "m2", "-o", str(tmp_path))
    assert "is a directory" in line
    blocker = tmp_path / "file"
    blocker.write_text("")
    line = one_error_line(capsys, ATT, "--system", "degree", "--format", "m2", "-o", str(blocker / "x.m2"))
    assert "cannot write" in line


def test_light_copies_of_the_choices_are_the_library_names():
    """The parser does not import the library (cold start); its copies of the names must stay equal."""
    from neuromanifold.cli import export as cli_export
    from neuromanifold.exports import FORMATS, SYSTEMS

    assert cli_export.SYSTEMS == SYSTEMS and cli_export.FORMATS == FORMATS


def test_missing_required_option_and_entry_point():
    proc = subprocess.run([sys.executable, "-m", "neuromanifold.cli", "export", ATT, "--format", "m2"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--system" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "neuromanifold.cli", "export", ATT, "--system", "ed", "--format",
                           "hc", "--seed", "2"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "using HomotopyContinuation" in proc.stdout


def test_python_api_gives_the_command_line_text(capsys):
    """``nm.export_system`` (the API a notebook uses) writes exactly what the command prints."""
    import neuromanifold as nm

    assert main(["export", ATT, "--system", "ed", "--format", "hc", "--metric", "bombieri_weyl", "--seed", "3"]) == 0
    cli_text = capsys.readouterr().out
    api_text = nm.export_system(ATT, system="ed", format="hc", metric="bombieri_weyl", seed=3)
    assert api_text == cli_text and "HomotopyContinuation" in api_text
    assert nm.export_system(ATT, system="ed", format="hc", metric="bombieri_weyl", seed=4) != api_text
    with pytest.raises(nm.InputError, match="unknown format"):
        nm.export_system(ATT, system="degree", format="maple")
