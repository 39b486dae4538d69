"""The command line: JSON equals the Python API, tables carry statuses, bad input exits 2."""

import json
import subprocess
import sys

import pytest

import neuromanifold as nm
from neuromanifold.cli import main

SPECS = ["mlp(widths=(2,2,2), r=2)", "cnn(k=(3,2), s=(2,1))", "attention(d=2, dout=1, a=2, t=2)"]


@pytest.mark.parametrize("spec", SPECS)
def test_cli_json_matches_api(spec, capsys):
    assert main(["analyze", spec, "--json", "--seed", "3"]) == 0
    cli = json.loads(capsys.readouterr().out)
    api = nm.analyze(spec, seed=3).to_dict()
    assert cli["architecture"] == api["architecture"] == nm.parse_spec(spec).spec()
    assert cli["n_params"] == api["n_params"]
    assert set(cli["invariants"]) == {
        "dimension",
        "expected_dimension",
        "ambient_dimension",
        "fiber_dimension",
        "hidden_symmetries",
    }
    for name, inv in cli["invariants"].items():
        assert set(inv) == {"value", "status", "evidence", "seconds", "seed"}
        assert inv["value"] == api["invariants"][name]["value"]
        assert inv["status"] == api["invariants"][name]["status"]
        assert inv["seed"] == 3
        assert inv["status"] in {"certified", "numerical", "lower_bound", "upper_bound", "failed"}


def test_only_selects_invariants(capsys):
    assert main(["analyze", "linear(widths=(3,2,4))", "--only", "dimension,fiber_dimension", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out["invariants"]) == ["dimension", "fiber_dimension"]
    assert out["invariants"]["dimension"]["value"] == 10


def test_table_output_has_status_column(capsys):
    assert main(["analyze", "mlp(widths=(3,3,3))"]) == 0
    out = capsys.readouterr().out
    assert "dimension" in out and "certified" in out and "15" in out


@pytest.mark.parametrize(
    "argv,fragment",
    [
        (["analyze", "mlp(widths=(2,0,1))"], ">= 1"),
        (["analyze", "transformer(d=2)"], "unknown architecture"),
        (["analyze", "mlp(widths=(2,3,1))", "--only", "degreee"], "unknown invariant"),
        (["analyze", "cnn(k=(4,4), n=5)"], "filter"),
        (["analyze", "attention(widths=(2,2,2), a=(1,1,1))"], "inconsistent"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, fragment, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_console_script_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "neuromanifold.cli", "analyze", "mlp(widths=(2,3"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "malformed spec" in proc.stderr


def test_architectures_command_lists_defaults(capsys):
    assert main(["architectures", "--json"]) == 0
    fams = {f["family"]: f for f in json.loads(capsys.readouterr().out)}
    assert {"linear", "mlp", "cnn", "attention"} <= set(fams)
    mlp = {p["name"]: p for p in fams["mlp"]["parameters"]}
    assert mlp["r"]["default"] == 2 and mlp["bias"]["default"] is False and mlp["widths"]["required"]


def test_contains_command(capsys):
    assert main(["contains", "mlp(widths=(2,1,1), r=3)", "(x0 - 2*x1)**3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["value"] is True and out["status"] == "numerical"
    assert main(["contains", "mlp(widths=(2,1,1), r=3)", "x0**3 + x1**3"]) == 0
    assert "not in the closure" in capsys.readouterr().out
    assert main(["contains", "mlp(widths=(2,1,1), r=3)", "z**3"]) == 2
    assert "unknown variables" in capsys.readouterr().err
