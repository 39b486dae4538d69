"""Issue 22 part 2: the documentation site builds with Sphinx, warnings as errors, and holds what it promises.

One build of ``docs/`` into a temporary directory (``sphinx-build -W --keep-going -b html``: the tutorial notebook
is executed by myst-nb, the API pages come from autodoc, the CLI reference from the argparse parser, the
benchmarks page from the newest result files); the tests then read the HTML.  The helpers of ``docs/_ext`` are
also tested on their own (newest result file per benchmark; docstrings that are not reST shown verbatim).
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
RESULTS = ROOT / "benchmarks" / "results"
TOOLS = {"sphinx": "sphinx", "myst_nb": "myst-nb", "myst_parser": "myst-parser", "sphinxarg": "sphinx-argparse",
         "furo": "furo", "ipykernel": "ipykernel"}
INVARIANT_PAGES = ("dimension", "fibers", "degree", "singularities", "ed_degree", "critical_points", "voronoi",
                   "conservation_laws", "covering", "activation_threshold", "functional_dimension")
RESULT_NAME = re.compile(r"^(?P<name>.+?)-(?P<date>\d{4}-\d{2}-\d{2})\.[A-Za-z0-9]+$")


def _missing_tools() -> list[str]:
    return [pkg for mod, pkg in TOOLS.items() if importlib.util.find_spec(mod) is None]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The built site (its directory); the build's output is printed when it fails."""
    missing = _missing_tools()
    assert not missing, f"the docs tools are not installed: {', '.join(missing)} (pip install -e '.[test]')"
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                           str(DOCS), str(out / "html"), "-d", str(out / "doctrees")],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    seconds = time.perf_counter() - t0
    print(f"sphinx-build: {seconds:.1f} s, exit {proc.returncode}")
    assert proc.returncode == 0, f"sphinx-build failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    return out / "html"


def _page(site: Path, name: str) -> str:
    path = site / name
    assert path.is_file(), f"{name} was not built"
    return path.read_text(encoding="utf-8")


def _text(page: str) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_key_pages_exist(site):
    for name in ["index.html", "installation.html", "tutorial.html", "exports.html", "critical_points.html",
                 "singularities.html", "cli.html", "benchmarks.html", "api/index.html", "api/toplevel.html",
                 "invariants/index.html"]:
        assert (site / name).is_file(), name
    index = _text(_page(site, "index.html"))
    assert "neuromanifold" in index and "certified" in index


def test_installation_gives_the_two_commands(site):
    text = _text(_page(site, "installation.html"))
    assert "pip install -q -c .ci/constraints.txt -e ." in text
    assert "python -m pytest -q" in text and ".ci/lock" in text


def test_cli_reference_is_generated_from_the_parser(site):
    from neuromanifold.cli import build_parser

    text = _text(_page(site, "cli.html"))
    commands = [a for a in build_parser()._actions if a.dest == "command"][0].choices
    for name in commands:  # every subcommand of the real parser, whatever it is
        assert re.search(rf"\b{re.escape(name)}\b", text), name
    assert "analyze" in commands and "--only" in text
    assert "comma-separated" in text or "invariants" in text  # the help of analyze's options
    analyze_opts = [o for a in commands["analyze"]._actions for o in a.option_strings if o.startswith("--") and o != "--help"]
    for opt in analyze_opts:
        assert opt in text, opt
    # help texts that are not valid reST (e.g. a glob with '*') appear as typed, not garbled into emphasis
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        from nm_docstrings import is_clean_rst
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    helps = []

    def walk(parser):
        for action in parser._actions:
            if isinstance(getattr(action, "choices", None), dict):
                for sub in action.choices.values():
                    if hasattr(sub, "_actions"):
                        walk(sub)
            if action.help and action.help != "==SUPPRESS==":
                helps.append(action.help)

    walk(build_parser())
    raw = [h for h in helps if "%" not in h and not is_clean_rst(h)]
    for h in raw:
        assert " ".join(h.split()) in text, h


def test_api_reference_documents_the_public_api(site):
    page = _page(site, "api/toplevel.html")
    for name in ["analyze", "AnalysisOptions", "Context", "Result", "Report", "contains", "critical_points"]:
        assert f'id="neuromanifold.{name}"' in page, name
    text = _text(page)
    assert "Compute invariants of the neuromanifold" in text  # analyze's docstring
    inv = _page(site, "api/invariants.html")
    for mod in ["dimension", "degree", "ed_degree", "singularities", "covering", "conservation", "identifiability"]:
        assert f'id="module-neuromanifold.invariants.{mod}"' in inv, mod
    for pkg, mod in [("landscape", "critical_points"), ("landscape", "voronoi"), ("homotopy", "monodromy"),
                     ("atlas", "store")]:
        assert f'id="module-neuromanifold.{pkg}.{mod}"' in _page(site, f"api/{pkg}.html"), mod
    # a docstring that is not valid reST (|G| reads as a substitution) is shown verbatim, not dropped
    inv_page = _page(site, "api/invariants.html")
    assert "|G|" in _text(inv_page) and "nm-verbatim" in inv_page


def test_one_page_per_invariant(site):
    for name in INVARIANT_PAGES:
        text = _text(_page(site, f"invariants/{name}.html"))
        assert "certif" in text.lower(), name  # every page states its certificate
        assert "References" in text or "Benchmark" in text, name
    index = _text(_page(site, "invariants/index.html"))
    from neuromanifold.analysis import INVARIANTS

    for name in INVARIANTS:  # every registered invariant is on the dictionary page
        assert name in index, name


def test_tutorial_is_executed(site):
    page = _page(site, "tutorial.html")
    assert "cell_output" in page  # outputs were produced at build time (the notebook is committed without)
    assert "Traceback" not in page


def test_benchmarks_page_shows_the_newest_result_files(site):
    text = _text(_page(site, "benchmarks.html"))
    newest: dict[str, tuple[str, Path]] = {}
    for path in RESULTS.iterdir():
        m = RESULT_NAME.match(path.name)
        if m and (m["name"] not in newest or m["date"] > newest[m["name"]][0]):
            newest[m["name"]] = (m["date"], path)
    assert newest, "no result files"
    for name, (_, path) in newest.items():
        assert f"benchmarks/results/{path.name}" in text, path.name
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if re.search(r"\d\.\d", ln)]
        assert lines, path.name
        for line in (lines[0], lines[-1]):  # numbers from the file itself
            assert " ".join(line.split()) in text, (path.name, line)
    assert "What it measures" in text


def test_site_loads_nothing_from_the_network(site):
    for page in site.rglob("*.html"):
        src = page.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=\"(https?:)?//", src), page
        assert not re.search(r"<link[^>]+rel=\"stylesheet\"[^>]+href=\"(https?:)?//", src), page


def test_latest_results_picks_the_newest_date(tmp_path):
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        from nm_benchmarks import latest_results
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    for name in ["scale-2026-01-05.txt", "scale-2026-11-30.txt", "scale-2026-02-01.txt", "degree-large-2026-03-01.txt",
                 "notes.txt"]:
        (tmp_path / name).write_text(name)
    latest = latest_results(tmp_path)
    assert sorted(latest) == ["degree-large", "scale"]
    assert latest["scale"]["path"].name == "scale-2026-11-30.txt"
    assert [p.name for p in latest["scale"]["older"]] == ["scale-2026-01-05.txt", "scale-2026-02-01.txt"]
    assert latest_results(tmp_path / "missing") == {}


def test_docstring_check_flags_invalid_rest():
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        from nm_docstrings import is_clean_rst, verbatim
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    assert is_clean_rst("The rank of ``J`` over Z/p.\n\n* a bullet\n* another")
    assert not is_clean_rst("count = |G| * beyond")  # undefined substitution
    assert not is_clean_rst("drift = |h(theta_T) - h(theta_0)|_2")
    assert not is_clean_rst("atlas files to merge in, e.g. shards/shard-*.sqlite")  # unterminated emphasis
    block = verbatim(["a |G|", "", "b"])
    assert block[0] == ".. code-block:: none" and block[-4:] == ["   a |G|", "", "   b", ""]
    assert block[1] == "   :class: nm-verbatim"
