"""Functional dimension of any ``torch.nn.Module`` on a finite input set.

For a module f_theta and N inputs x_1..x_N, mu_X(theta) = (f_theta(x_1), ..., f_theta(x_N)) in
R^{N x out}.  The functional dimension at theta (Grigsby, Lindsey, Rolnick, "Functional dimension of
feedforward ReLU neural networks", 2022) is rank d mu_X(theta): the dimension of the set of functions
on X the module realises near theta.  It is computed in float64 with torch.func (functional_call +
jacrev over all parameters) and read off the singular values of the row-normalised Jacobian at their
largest gap (status ``numerical``, the gap as evidence).  It is at most n_params (``parameter_count``,
an upper bound) and at most N * out (``ambient_dimension``, the number of coordinates of R^{N x out}).

For ReLU networks the rank is constant on open sets but not over all of parameter space (dead or
always-active neurons, inputs on one side of a bent hyperplane lower it): ``dimension_distribution``
counts the ranks at independent random parameter draws.  For polynomial activations it is the
generic rank of mu_X, which equals dim M once the inputs separate the function space.

Modules whose forward pass is piecewise polynomial (checked on a torch.fx trace against a list of
operations) also get the conservation laws of gradient flow (``invariants.conservation``).
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import InputError
from ..arithmetic.rank import numerical_rank
from ..result import Result, jsonable

MAX_JACOBIAN_ENTRIES = 5e7  # float64 entries of one Jacobian (400 MB)
INITS = ("normal", "module")


# -- loading a module from a file -------------------------------------------------------------------


def load_module(target: str, *, seed: int = 0) -> Any:
    """``path/to/file.py:ClassName`` -> an instance ``ClassName()`` (the file is imported from its path;
    the constructor runs under ``torch.manual_seed(seed)``, so random initial parameters are reproducible)."""
    import torch

    path_s, sep, cls_name = str(target).rpartition(":")
    if not sep or not path_s or not cls_name:
        raise InputError(f"--torch {target!r}: give FILE.py:ClassName, e.g. examples/torch_models.py:ReLUNet")
    path = Path(path_s)
    if not path.is_file():
        raise InputError(f"--torch: file {path_s!r} does not exist")
    if path.suffix != ".py":
        raise InputError(f"--torch: {path_s!r} is not a Python file (.py)")
    mod_name = f"_neuromanifold_user_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise InputError(f"--torch: cannot import {path_s!r} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module  # dataclasses and pickling look the module up here
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's file: any error is bad input
        sys.modules.pop(mod_name, None)
        raise InputError(f"--torch: {path_s} does not load: {type(exc).__name__}: {_first_line(exc)}") from None
    cls = getattr(module, cls_name, None)
    if cls is None:
        found = sorted(n for n, v in vars(module).items()
                       if inspect.isclass(v) and issubclass(v, torch.nn.Module) and v.__module__ == mod_name)
        raise InputError(f"--torch: no class {cls_name!r} in {path_s}; its torch.nn.Module classes: "
                         f"{', '.join(found) or 'none'}")
    if not (inspect.isclass(cls) and issubclass(cls, torch.nn.Module)):
        raise InputError(f"--torch: {cls_name} in {path_s} is not a torch.nn.Module subclass")
    required = [p.name for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
                if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if required:
        raise InputError(f"--torch: {cls_name}() needs constructor arguments ({', '.join(required)}); give them "
                         f"defaults or wrap the module in a class constructed without arguments")
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            return cls()
    except Exception as exc:
        raise InputError(f"--torch: {cls_name}() failed: {type(exc).__name__}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# -- inputs -------------------------------------------------------------------------------------------


def _leaf_modules(module: Any) -> list[Any]:
    return [m for m in module.modules() if not list(m.children())]


def infer_input_shape(module: Any, *, input_shape: Sequence[int] | None = None) -> tuple[tuple[int, ...], str]:
    """Shape of one input sample: given, the module attribute ``input_shape``, or ``in_features`` of a
    first ``nn.Linear`` layer."""
    import torch

    if input_shape is not None:
        shape, how = tuple(int(s) for s in np.atleast_1d(input_shape)), "given"
    elif getattr(module, "input_shape", None) is not None:
        shape, how = tuple(int(s) for s in np.atleast_1d(module.input_shape)), "module attribute input_shape"
    else:
        leaves = [m for m in _leaf_modules(module) if list(m.parameters(recurse=False))]
        if leaves and isinstance(leaves[0], torch.nn.Linear):
            shape, how = (leaves[0].in_features,), "in_features of the first nn.Linear"
        else:
            raise InputError(f"cannot infer the input shape of {type(module).__name__}: pass input_shape "
                             f"(--input-shape 3 or 2,4 per sample), a tensor of inputs, or set module.input_shape")
    if not shape or any(s < 1 for s in shape):
        raise InputError(f"input shape {shape} must be positive integers (the shape of one sample)")
    return shape, how


# -- the Jacobian of mu_X -------------------------------------------------------------------------


@dataclass
class _Model:
    """A float64 copy of the module as a function of its flattened parameters."""

    module: Any
    names: list[str]
    shapes: list[tuple[int, ...]]
    buffers: dict[str, Any]
    inputs: Any

    @property
    def n_params(self) -> int:
        return sum(math.prod(s) for s in self.shapes)

    def unflatten(self, theta: Any) -> dict[str, Any]:
        out, off = {}, 0
        for n, s in zip(self.names, self.shapes):
            size = math.prod(s)
            out[n] = theta[off: off + size].reshape(s)
            off += size
        return out

    def theta(self) -> Any:
        import torch

        return torch.cat([p.detach().reshape(-1) for p in self.module.parameters()])

    def values(self, theta: Any) -> Any:
        """mu_X(theta): every output at every input, flattened."""
        from torch.func import functional_call

        out = functional_call(self.module, (self.unflatten(theta), self.buffers), (self.inputs,))
        if isinstance(out, (tuple, list)):
            out = out[0]
        return out.reshape(-1)

    def jacobian(self, theta: Any) -> np.ndarray:
        from torch.func import jacrev

        return jacrev(self.values)(theta).detach().numpy()


def _prepare(module: Any, inputs: Any, input_shape: Sequence[int] | None, n_inputs: int | None,
             seed: int) -> tuple[_Model, dict[str, Any]]:
    import torch

    if not isinstance(module, torch.nn.Module):
        raise InputError(f"expected a torch.nn.Module, got {type(module).__name__}")
    name = type(module).__name__
    params = list(module.named_parameters())
    if not params:
        raise InputError(f"{name} has no parameters: its function space is a single point; give a module with "
                         f"trainable parameters")
    m = copy.deepcopy(module).to(torch.float64)
    n_p = sum(p.numel() for _, p in params)
    info: dict[str, Any] = {}
    gen = torch.Generator().manual_seed(int(seed))
    if inputs is not None:
        X = torch.as_tensor(inputs)
        if X.is_floating_point():
            X = X.to(torch.float64)
        if X.ndim < 1 or X.shape[0] < 1:
            raise InputError("inputs must be a tensor of samples (N, ...), N >= 1")
        info.update(input_shape=list(X.shape[1:]), input_source="given tensor")
    else:
        shape, how = infer_input_shape(module, input_shape=input_shape)
        info.update(input_shape=list(shape), input_source=how)
        probe = torch.randn((1, *shape), generator=gen, dtype=torch.float64)
        out1 = _forward_or_raise(m, probe, name)
        out_size = max(1, out1.numel())
        N = int(n_inputs) if n_inputs is not None else max(8, math.ceil(2 * n_p / out_size))
        if N < 1:
            raise InputError(f"n_inputs must be a positive integer, got {n_inputs}")
        X = torch.randn((N, *shape), generator=gen, dtype=torch.float64)
        info["inputs"] = "i.i.d. standard Gaussian (seeded)"
    out = _forward_or_raise(m, X, name)
    if not out.is_floating_point():
        raise InputError(f"{name} returns {out.dtype} values: an integer output (argmax, comparisons) has no "
                         f"derivative; functional dimension needs a module differentiable almost everywhere")
    if out.numel() * n_p > MAX_JACOBIAN_ENTRIES:
        raise InputError(f"{name}: the Jacobian would have {out.numel()} x {n_p} entries (> {MAX_JACOBIAN_ENTRIES:.0e});"
                         f" use fewer inputs (n_inputs) or a smaller module")
    info.update(n_inputs=int(X.shape[0]), outputs_per_input=int(out.numel() // X.shape[0]), n_params=n_p)
    names = [n for n, _ in m.named_parameters()]
    shapes = [tuple(p.shape) for _, p in m.named_parameters()]
    buffers = {k: v.detach() for k, v in m.named_buffers()}
    return _Model(m, names, shapes, buffers, X), info


def _forward_or_raise(m: Any, X: Any, name: str) -> Any:
    import torch

    try:
        with torch.no_grad():
            out = m(X)
    except Exception as exc:
        raise InputError(f"{name} failed on inputs of shape {tuple(X.shape)}: {type(exc).__name__}: "
                         f"{_first_line(exc)} (check input_shape)") from None
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        out = out[0]
    if not isinstance(out, torch.Tensor):
        raise InputError(f"{name} returns {type(out).__name__}, not a tensor")
    return out


def _check_gradients(model: _Model, theta: Any, J: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    """Parameter arrays with zero gradient at theta and at 3 Gaussian draws: unused ones are reported; ones
    that still change the output when resampled sit behind a piecewise-constant operation -> InputError."""
    import torch

    if not np.all(np.isfinite(J)):
        raise InputError("the Jacobian has NaN/inf entries: the module is not differentiable at these parameters "
                         "(division by zero, log of 0, sqrt at 0?)")
    blocks, off = {}, 0
    for n, s in zip(model.names, model.shapes):
        blocks[n] = slice(off, off + math.prod(s))
        off += math.prod(s)
    zero = [n for n, b in blocks.items() if not np.any(J[:, b])]
    out: dict[str, Any] = {"unused_parameters": [], "zero_gradient_here": []}
    if not zero:
        return out
    draws = [torch.as_tensor(rng.standard_normal(model.n_params), dtype=torch.float64) for _ in range(3)]
    jacs = [model.jacobian(th) for th in draws]
    for n in zero:
        b = blocks[n]
        if any(np.any(Jd[:, b]) for Jd in jacs):
            out["zero_gradient_here"].append(n)  # e.g. inactive ReLU units at these parameters
            continue
        changes = []
        for th in [theta] + draws:
            moved = th.clone()
            moved[b] = th[b] + torch.as_tensor(rng.standard_normal(b.stop - b.start), dtype=th.dtype) * (
                1.0 + float(th[b].abs().max()))
            f0 = model.values(th).detach()
            changes.append(float((model.values(moved).detach() - f0).abs().max()) / (1.0 + float(f0.abs().max())))
        if max(changes) > 1e-9:
            raise InputError(f"parameter {n!r} changes the output but its gradient is zero: a non-differentiable, "
                             f"piecewise-constant operation (torch.round, sign, argmax, comparisons) blocks gradients; "
                             f"functional dimension needs layers differentiable almost everywhere")
        out["unused_parameters"].append(n)
    return out


def _draw(model: _Model, init: str, rng: np.random.Generator, seed: int) -> Any:
    import torch

    if init == "normal":
        return torch.as_tensor(rng.standard_normal(model.n_params), dtype=torch.float64)
    m = copy.deepcopy(model.module)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        owners = {id(p) for mod in m.modules() if hasattr(mod, "reset_parameters")
                  for p in mod.parameters(recurse=False)}
        for mod in m.modules():
            if hasattr(mod, "reset_parameters"):
                mod.reset_parameters()
        for p in m.parameters():
            if id(p) not in owners:
                with torch.no_grad():
                    p.normal_()
    return torch.cat([p.detach().reshape(-1) for p in m.parameters()]).to(torch.float64)


# -- piecewise polynomial forward passes ----------------------------------------------------------

_PP_FUNCTIONS = {"add", "sub", "mul", "neg", "pos", "matmul", "getitem", "getattr", "relu", "linear", "conv1d",
                 "conv2d", "leaky_relu", "abs", "maximum", "minimum", "clamp", "max_pool1d", "max_pool2d",
                 "avg_pool1d", "avg_pool2d", "cat", "stack", "sum", "mean", "einsum", "bmm", "reshape", "flatten",
                 "transpose", "permute", "unsqueeze", "squeeze", "view", "t", "square", "contiguous", "size",
                 "hardtanh", "relu6", "iadd", "imul", "isub", "expand", "repeat", "chunk", "split", "mm",
                 "unbind", "narrow", "select", "swapaxes"}
_PL_NAMES = {"relu", "leaky_relu", "abs", "maximum", "minimum", "clamp", "max_pool1d", "max_pool2d", "hardtanh",
             "relu6", "ReLU", "LeakyReLU", "ReLU6", "Hardtanh", "MaxPool1d", "MaxPool2d"}  # the non-polynomial ones
PIECEWISE_LINEAR = "piecewise linear (relu, max, abs) between polynomial operations"
_PP_MODULES = ("Linear", "Bilinear", "Conv1d", "Conv2d", "Conv3d", "ReLU", "LeakyReLU", "ReLU6", "Hardtanh",
               "Identity", "Flatten", "Unflatten", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "Sequential")


def piecewise_polynomial(module: Any) -> tuple[bool, str]:
    """Is the forward pass built only from polynomial and piecewise-linear operations?  Read off a
    torch.fx trace (operations the trace cannot see make the answer False)."""
    import torch

    try:
        gm = torch.fx.symbolic_trace(module)
    except Exception as exc:
        return False, f"torch.fx could not trace the forward pass ({type(exc).__name__}); piecewise polynomiality unknown"
    mods = dict(gm.named_modules())
    pl = False
    for node in gm.graph.nodes:
        if node.op == "call_module":
            kind = type(mods[node.target]).__name__
            pl |= kind in _PL_NAMES
            if kind not in _PP_MODULES:
                return False, f"layer {node.target} ({kind}) is not piecewise polynomial"
        elif node.op in ("call_function", "call_method"):
            fname = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", str(node.target))
            fname = fname.strip("_")
            pl |= fname in _PL_NAMES
            if fname in ("pow", "ipow"):
                e = node.args[1] if len(node.args) > 1 else node.kwargs.get("exponent")
                if not (isinstance(e, (int, float)) and float(e).is_integer() and e >= 0):
                    return False, f"{node.name}: power with exponent {e!r} (not a non-negative integer)"
            elif fname in ("truediv", "div", "itruediv"):
                if isinstance(node.args[1], torch.fx.Node):
                    return False, f"{node.name}: division by a tensor is not polynomial"
            elif fname not in _PP_FUNCTIONS:
                return False, f"{node.name}: operation {fname} is not polynomial or piecewise linear"
    if pl:
        return True, f"every traced operation is polynomial (+, *, @, integer powers) or {PIECEWISE_LINEAR}"
    return True, "every traced operation is polynomial (+, *, @, integer powers)"


# -- the report -------------------------------------------------------------------------------------


@dataclass
class ModuleReport:
    """Invariants of the function space of one torch module on a finite input set."""

    module: str
    info: dict[str, Any]
    seed: int
    invariants: dict[str, Result] = field(default_factory=dict)
    seconds: float = 0.0

    def __getitem__(self, name: str) -> Result:
        return self.invariants[name]

    def to_dict(self) -> dict[str, Any]:
        return jsonable({"module": self.module, **self.info, "seed": self.seed, "seconds": round(self.seconds, 4),
                         "invariants": {k: r.to_dict() for k, r in self.invariants.items()}})


def analyze_module(module: Any, inputs: Any = None, *, input_shape: Sequence[int] | None = None,
                   n_inputs: int | None = None, draws: int = 20, init: str = "normal", seed: int = 0,
                   conservation: bool = True, progress: bool = False) -> ModuleReport:
    """Functional dimension of ``module`` on N inputs (``inputs``, or N Gaussian samples of ``input_shape``),
    at its current parameters and over ``draws`` random parameter draws (``init``: "normal" = i.i.d.
    standard Gaussian, "module" = the layers' own ``reset_parameters``), in float64."""
    t0 = time.perf_counter()
    if init not in INITS:
        raise InputError(f"unknown init {init!r}; choose from: {', '.join(INITS)}")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 0:
        raise InputError(f"draws must be a non-negative integer, got {draws!r}")
    model, info = _prepare(module, inputs, input_shape, n_inputs, seed)
    rng = np.random.default_rng([int(seed), 6])
    name = type(module).__name__
    report = ModuleReport(name, info, int(seed))
    n_p, amb = model.n_params, info["n_inputs"] * info["outputs_per_input"]

    theta0 = model.theta()
    J = model.jacobian(theta0)
    grad = _check_gradients(model, theta0, J, rng)
    nr = numerical_rank(J)
    ev = {**nr.evidence(), "upper_bound": min(n_p, amb), "point": "the module's current parameters",
          "method": "SVD of the row-normalised float64 Jacobian d mu_X / d theta (torch.func.jacrev over all "
          "parameters); rank at the largest singular-value gap above a relative floor of 1e-11",
          "reference": "Grigsby, Lindsey, Rolnick, 'Functional dimension of feedforward ReLU neural networks' (2022)",
          **grad}
    ev.pop("spectrum", None)
    ev["spectrum"] = [float(f"{x:.3e}") for x in (nr.singular_values[:200] / nr.singular_values[0]
                                                   if len(nr.singular_values) and nr.singular_values[0] > 0 else [])]
    report.invariants["functional_dimension"] = Result("functional_dimension", nr.rank, "numerical", ev, 0.0, seed)
    report.invariants["parameter_count"] = Result(
        "parameter_count", n_p, "upper_bound", {"meaning": "functional dimension <= number of parameters"}, 0.0, seed)
    report.invariants["ambient_dimension"] = Result(
        "ambient_dimension", amb, "certified",
        {"meaning": f"dimension of R^(N x out) = {info['n_inputs']} inputs x {info['outputs_per_input']} outputs, "
                    "which contains the function values on the inputs (functional dimension <= it)"}, 0.0, seed)

    law_points: list[Any] = []  # parameter draws at which a piecewise-linear module's laws are also counted
    if draws:
        counts: Counter[int] = Counter()
        gaps, unclear = [], 0
        from ..runtime.progress import Bar

        it: Any = Bar(range(draws), desc=f"{name}: parameter draws", unit="draws", enabled=progress)
        for i in it:
            th = _draw(model, init, rng, int(seed) * 100003 + i)
            if len(law_points) < LAW_DRAWS:
                law_points.append(th)
            r = numerical_rank(model.jacobian(th))
            counts[r.rank] += 1
            gaps.append(r.gap)
            unclear += not r.clear
        finite = [g for g in gaps if math.isfinite(g)]
        report.invariants["dimension_distribution"] = Result(
            "dimension_distribution", {int(k): int(v) for k, v in sorted(counts.items())}, "numerical",
            {"meaning": "number of parameter draws at which the functional dimension takes each value",
             "draws": draws, "init": init, "clear_gaps": draws - unclear,
             "smallest_gap": min(finite) if finite else float("inf"),
             "method": "functional_dimension at independent random parameter points, same inputs"}, 0.0, seed)
    if conservation:
        report.invariants["conservation_laws"] = _conservation(module, model, theta0, law_points, rng)
    report.seconds = time.perf_counter() - t0
    return report


LAW_DRAWS = 8  # parameter draws at which the laws of a piecewise-linear module are counted as well


def _conservation(module: Any, model: _Model, theta0: Any, law_points: Sequence[Any] = (),
                  rng: np.random.Generator | None = None) -> Result:
    """Conservation laws of gradient flow for piecewise polynomial modules (invariants.conservation) at the
    module's own parameters; for piecewise-linear ones also the count (D - dim Lie(W_phi)) at ``law_points``."""
    ok, why = piecewise_polynomial(module)
    if not ok:
        return Result("conservation_laws", None, "not_computed", {"reason": f"not piecewise polynomial: {why}"})
    from .conservation import family_of_map, lie_algebra_trace, module_conservation_laws

    res = module_conservation_laws(model.values, theta0, piecewise=why)
    if res.evidence is not None and PIECEWISE_LINEAR in why:
        region = _relu_region(model, theta0)
        res.evidence["region"] = region
        res.evidence["locality"] = (
            "counted at the module's own parameters on its input set (the point asked about, so not moved into the "
            "region where every ReLU unit switches, as `analyze` does for relu(...) specs): on a piecewise-linear "
            "module the count belongs to the activation region of these inputs (a unit active on every input, or "
            "dead on every input, adds laws); 'region' says whether every ReLU unit is active on some inputs and "
            "inactive on others at these parameters; count_distribution gives the counts at other parameter "
            "draws, split by the same check")
        if law_points:
            family = family_of_map(model.values, theta0)
            rng = rng if rng is not None else np.random.default_rng(0)
            counts: Counter[int] = Counter()
            split: dict[str, Counter[int]] = {"in_region": Counter(), "outside_region": Counter(),
                                              "region_unknown": Counter()}
            for th in law_points:
                n = lie_algebra_trace(family, th, rng).n_laws
                counts[n] += 1
                inside = _relu_region(model, th).get("in_region")
                split["region_unknown" if inside is None else "in_region" if inside else "outside_region"][n] += 1
            res.evidence["count_distribution"] = {int(k): int(v) for k, v in sorted(counts.items())}
            res.evidence["count_distribution_by_region"] = {
                k: {int(a): int(b) for a, b in sorted(c.items())} for k, c in split.items() if c}
            res.evidence["count_draws"] = len(law_points)
    return res


def _relu_region(model: _Model, theta: Any) -> dict[str, Any]:
    """Is every ReLU unit (each entry of each relu input, per input) active (> 0) on some of the module's inputs
    and inactive (< 0) on others at theta?  The relu inputs are captured with a TorchFunctionMode."""
    import torch
    from torch.overrides import TorchFunctionMode

    relus = {torch.relu, torch.relu_, torch.nn.functional.relu, torch.nn.functional.relu_, torch.Tensor.relu,
             torch.Tensor.relu_}
    captured: list[Any] = []

    class _Capture(TorchFunctionMode):
        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            if func in relus and args:
                captured.append(args[0].detach().clone())
            return func(*args, **(kwargs or {}))

    n_inputs = int(model.inputs.shape[0])
    try:
        with torch.no_grad(), _Capture():
            model.values(torch.as_tensor(theta))
    except Exception as exc:  # the check is evidence only; say why it is missing
        return {"in_region": None, "reason": f"relu inputs not captured: {type(exc).__name__}"}
    if not captured or any(Z.ndim == 0 or Z.shape[0] != n_inputs for Z in captured):
        return {"in_region": None, "reason": "no relu call with one row per input was seen (max/abs units are not "
                "checked)"}
    sw = np.concatenate([((Z.reshape(n_inputs, -1) > 0).any(0) & (Z.reshape(n_inputs, -1) < 0).any(0)).numpy()
                         for Z in captured])
    return {"in_region": bool(sw.all()), "units": int(sw.size), "switching_units": int(sw.sum()),
            "meaning": f"ReLU units active on some and inactive on others of the {n_inputs} inputs, checked"}


def analyze_file(target: str, **kwargs: Any) -> ModuleReport:
    """``analyze_module(load_module("file.py:ClassName"), **kwargs)``."""
    return analyze_module(load_module(target, seed=int(kwargs.get("seed", 0))), **kwargs)


__all__ = ["ModuleReport", "analyze_file", "analyze_module", "infer_input_shape", "load_module",
           "piecewise_polynomial"]
