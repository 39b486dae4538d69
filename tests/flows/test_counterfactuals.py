"""Counterfactuals (gradient ascent in the base space of a flow) against adversarial examples (in data
space): on the helix the counterfactual stays near the data manifold; stopping rule; bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from flows_shared import helix_starts, trained_helix
from neuromanifold.errors import InputError
from neuromanifold.flows.counterfactuals import gradient_ascent
from neuromanifold.flows.models import Classifier, GlowFlow


def test_base_space_ascent_stays_closer_to_the_helix():
    helix, train, hold, flow, clf = trained_helix()
    x0, labels, targets = helix_starts(100)
    assert np.all(targets != labels)
    base = gradient_ascent(clf, x0, targets, space="base", flow=flow, lr=0.05, max_steps=400)
    adv = gradient_ascent(clf, x0, targets, space="data", lr=0.05, max_steps=400)
    d_base, d_adv = helix.distance(base.x), helix.distance(adv.x)  # exact distances
    assert np.mean(d_base < d_adv) >= 0.9, (np.median(d_base), np.median(d_adv))
    assert adv.reached.all() and base.reached.mean() >= 0.9
    assert np.all(base.prob[base.reached] >= 0.99) and np.all(adv.prob >= 0.99)
    # the counterfactual really changed class and moved along the helix
    t_end, _ = helix.project(base.x[base.reached])
    seg = np.clip((t_end / helix.length * 4).astype(int), 0, 3)
    assert np.mean(seg == targets[base.reached]) >= 0.9


def test_stopping_rule_and_step_count_on_a_linear_classifier():
    """Logits (0, w.x): with unit-length steps along w the log-odds grow by lr |w| per step, so the
    number of steps to p >= 0.99 is ceil((logit(0.99) - w.x0) / (lr |w|)) -- a closed formula."""
    clf = Classifier(2, 2, hidden=())
    w = torch.tensor([3.0, -4.0], dtype=torch.float64)
    clf = clf.double()
    with torch.no_grad():
        clf.net[0].weight.copy_(torch.stack([torch.zeros(2, dtype=torch.float64), w]))
        clf.net[0].bias.zero_()
    x0 = np.array([[-1.0, 0.5], [0.2, 0.1], [0.0, 3.0]])
    lr = 0.01
    res = gradient_ascent(clf, x0, 1, space="data", lr=lr, max_steps=10_000)
    expect = np.ceil((math.log(99) - x0 @ w.numpy()) / (lr * 5.0) - 1e-9)
    assert np.array_equal(res.steps, expect.astype(int))
    assert np.all(res.prob >= 0.99) and np.all(res.reached)
    # the path is a straight line along w: the difference map is parallel to w
    d = res.difference
    assert np.allclose(d[:, 0] * -4.0 - d[:, 1] * 3.0, 0, atol=1e-9)
    capped = gradient_ascent(clf, x0, 1, space="data", lr=lr, max_steps=5)
    assert np.all(capped.steps == 5) and not capped.reached.any()
    plain = gradient_ascent(clf, x0, 1, space="data", lr=lr, max_steps=10_000, normalize=False)
    assert plain.reached.all() and not plain.meta["normalize"]


def test_bad_input():
    helix, train, hold, flow, clf = trained_helix()
    x0 = helix.point(np.array([0.5, 2.0]))
    with pytest.raises(InputError, match="target class 4 is out of range"):
        gradient_ascent(clf, x0, 4, flow=flow)
    with pytest.raises(InputError, match="target class -1 is out of range"):
        gradient_ascent(clf, x0, [0, -1], space="data")
    with pytest.raises(InputError, match="one class per start point"):
        gradient_ascent(clf, x0, [0, 1, 2], space="data")
    with pytest.raises(InputError, match="integers"):
        gradient_ascent(clf, x0, 1.5, space="data")
    with pytest.raises(InputError, match="shape"):
        gradient_ascent(clf, x0[:, :2], 1, space="data")
    with pytest.raises(InputError, match="NaN"):
        gradient_ascent(clf, np.array([[np.nan, 0, 0]]), 1, space="data")
    with pytest.raises(InputError, match="needs a flow"):
        gradient_ascent(clf, x0, 1, space="base")
    with pytest.raises(InputError, match="unknown space"):
        gradient_ascent(clf, x0, 1, space="latent", flow=flow)
    # a flow that is not invertible on the input: Glow's logit is undefined outside (0, 1) (plus margin)
    torch.manual_seed(0)
    glow = GlowFlow(8, blocks=1, hidden=8)
    glow.initialize(torch.rand(32, 64) * 0.8 + 0.1)
    clf64 = Classifier(64, 10)
    x = np.full((2, 64), 0.5)
    x[1, 3] = 2.0
    with pytest.raises(InputError, match="not invertible on input row 1"):
        gradient_ascent(clf64, x, 3, space="base", flow=glow)
    with pytest.raises(InputError, match="does not match"):
        gradient_ascent(clf64, x, 3, space="base", flow=flow)


def test_cli_bad_input(capsys):
    from neuromanifold.cli import main
    from neuromanifold.flows.experiment import run_counterfactuals

    with pytest.raises(SystemExit) as exc:  # argparse choices: one line, exit status 2
        main(["experiment", "counterfactuals", "--data", "faces"])
    assert exc.value.code == 2
    with pytest.raises(InputError, match="unknown data set"):
        run_counterfactuals(data="faces")
    with pytest.raises(InputError, match="digits use 'glow'"):
        run_counterfactuals(data="digits", flow="nsf")
    assert main(["experiment", "counterfactuals", "--data", "helix", "--epochs", "0"]) == 2
    assert "epochs" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_helix_report(tmp_path):
    import json

    from neuromanifold.cli import main

    out = tmp_path / "rep"
    assert main(["experiment", "counterfactuals", "--data", "helix", "--epochs", "30", "--starts", "30",
                 "--out", str(out)]) == 0
    rep = json.loads((out / "counterfactuals_helix.json").read_text())
    assert rep["results"]["tangent_normal_ratio"]["status"] == "numerical"
    assert rep["results"]["tangent_normal_ratio"]["value"] > 10
    assert rep["results"]["base_closer_fraction"]["value"] >= 0.8
    for name in ("counterfactuals_helix.md", "counterfactuals_helix_trajectories.png", "counterfactuals_helix_metric.png"):
        assert (out / name).stat().st_size > 1000


@pytest.mark.slow
def test_cli_digits_report(tmp_path):
    import json

    from neuromanifold.cli import main

    out = tmp_path / "rep"
    assert main(["experiment", "counterfactuals", "--data", "digits", "--epochs", "1", "--starts", "3",
                 "--out", str(out)]) == 0
    rep = json.loads((out / "counterfactuals_digits.json").read_text())
    rows = rep["tables"]["per_start"]
    assert len(rows) == 3 and all(r["label"] != r["target"] for r in rows)
    spec = rep["results"]["induced_metric_spectrum"]["value"]
    assert len(spec) == 64 and all(a >= b for a, b in zip(spec, spec[1:]))
    assert (out / "counterfactuals_digits_grid.png").stat().st_size > 1000
