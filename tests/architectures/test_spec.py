"""Spec parsing: canonical forms, defaults, and one-line errors for bad input."""

import pytest

import neuromanifold as nm
from neuromanifold.architectures import families


@pytest.mark.parametrize(
    "spec,canonical",
    [
        ("linear(widths=(3,2,4))", "linear(widths=(3, 2, 4))"),
        ("mlp(widths=(2,3,1))", "mlp(widths=(2, 3, 1), r=2, bias=False)"),
        ("mlp(widths=[2,3,1], r=3, bias=True)", "mlp(widths=(2, 3, 1), r=3, bias=True)"),
        ("cnn(k=(3,2), s=(2,1))", "cnn(k=(3, 2), s=(2, 1), r=2, n=5)"),
        ("cnn(k=(3,2))", "cnn(k=(3, 2), s=(1, 1), r=2, n=4)"),
        ("cnn(k=(2,2), s=(1,1), r=1, n=6)", "cnn(k=(2, 2), s=(1, 1), r=1, n=6)"),
        ("attention(d=2, dout=1, a=2, t=2)", "attention(d=2, dout=1, a=2, t=2)"),
        ("attention(d=3)", "attention(d=3, dout=3, a=3, t=2)"),
        ("attention(widths=(3,3,3), a=(2,2), t=2)", "attention(widths=(3, 3, 3), a=(2, 2), t=2)"),
        ("attention(widths=(2,1), a=(2,), t=2)", "attention(d=2, dout=1, a=2, t=2)"),
    ],
)
def test_canonical_spec_roundtrip(spec, canonical):
    arch = nm.parse_spec(spec)
    assert arch.spec() == canonical
    assert nm.parse_spec(arch.spec()).spec() == canonical


def test_cnn_default_length_gives_single_output():
    for k, s in [((3, 2), (2, 1)), ((2, 2, 2), (1, 1, 1)), ((4, 3, 2), (2, 3, 1))]:
        arch = nm.parse_spec(f"cnn(k={k}, s={s})")
        assert arch.output_size() == 1
        # one shorter input is too short for the filters
        with pytest.raises(nm.SpecError):
            nm.parse_spec(f"cnn(k={k}, s={s}, n={arch.n - 1})")


def test_parameter_counts():
    assert nm.parse_spec("mlp(widths=(2,3,1), bias=True)").n_params == 6 + 3 + 3 + 1
    assert nm.parse_spec("attention(widths=(3,4,2), a=(2,5), t=3)").n_params == (6 + 6 + 12) + (20 + 20 + 8)
    assert nm.parse_spec("cnn(k=(3,2,4))").n_params == 9


BAD = [
    ("", "empty spec"),
    ("mlp(widths=(2,3", "malformed spec"),
    ("foo(widths=(2,3))", "unknown architecture 'foo'"),
    ("mlp(2,3)", "key=value"),
    ("mlp(r=2)", "widths is required"),
    ("mlp(widths=(2,0,1))", ">= 1"),
    ("mlp(widths=(2,-3,1))", ">= 1"),
    ("mlp(widths=(2,))", "at least 2"),
    ("mlp(widths=(2,3,1), r=0)", "r must be >= 1"),
    ("mlp(widths=(2,3,1), r=2.5)", "r must be an integer"),
    ("mlp(widths=(2,3,1), depth=3)", "unknown parameter 'depth'"),
    ("mlp(widths=(2,3,1), bias=1)", "True or False"),
    ("mlp(widths=x)", "literal"),
    ("attention(d=2, t=0)", "t must be >= 1"),
    ("attention(t=2)", "give d="),
    ("attention(widths=(3,3,3), a=(2,), t=2)", "inconsistent deep spec"),
    ("attention(widths=(3,3,3), a=2)", "a must be a tuple"),
    ("attention(widths=(3,3), d=3)", "not both"),
    ("cnn(k=(5,2), n=3)", "filter 1 has size 5"),
    ("cnn(k=(3,2), s=(1,))", "strides"),
    ("cnn(k=(3,0))", ">= 1"),
    ("cnn(s=(1,1))", "k is required"),
]


@pytest.mark.parametrize("spec,fragment", BAD)
def test_bad_specs_raise_one_line_value_errors(spec, fragment):
    with pytest.raises(nm.SpecError) as exc:
        nm.parse_spec(spec)
    msg = str(exc.value)
    assert isinstance(exc.value, ValueError)
    assert fragment in msg
    assert "\n" not in msg
    # every message names a valid form or where to find one
    assert "valid form" in msg or "e.g." in msg or "architectures" in msg


def test_every_family_lists_its_parameters_and_form():
    fams = families()
    assert set(fams) >= {"linear", "mlp", "cnn", "attention"}
    for name, cls in fams.items():
        assert cls.form.startswith(name + "(")
        assert cls.spec_params and all(p.doc for p in cls.spec_params)
