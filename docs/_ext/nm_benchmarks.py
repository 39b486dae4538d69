"""The ``benchmark-results`` directive: the newest result file of every benchmark, included at build time.

Result files live in ``benchmarks/results/`` and are named ``NAME-YYYY-MM-DD.EXT`` (``scale-2026-12-06.txt``).
For every NAME the file with the latest date is included verbatim, under a section that says what the
benchmark measures: the docstring of the script that produced it (``benchmarks/NAME.py``, dashes read as
underscores, or the script named in ``SCRIPTS``), read with ``ast`` -- nothing is imported or run.  Scripts
with no result file yet are listed at the end.  Pages using the directive are re-read at every build, so a new
result file shows up without ``-E``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from nm_docstrings import is_clean_rst

RESULT_NAME = re.compile(r"^(?P<name>.+?)-(?P<date>\d{4}-\d{2}-\d{2})\.(?P<ext>[A-Za-z0-9]+)$")

# result names that are not the name of their script
SCRIPTS = {
    "coldstart": "degree.py",  # benchmarks/degree.py --cold-runs: the cold start of the command line
    "degree-large": "degree_large.py",
}
# result names produced by a command rather than a benchmark script: (what produced it, what it measures)
COMMANDS = {
    "landscape-study": (
        "neuromanifold experiment landscape (neuromanifold.landscape.study)",
        "The regularization study (issue 19): for small matched dense, convolutional and attention networks -- "
        "each with x^r, with a generic activation and with a skip or biases -- dim M, the fiber dimension, the "
        "singular subnetwork strata and the ED degree, then complete critical-point solves of the mean-squared "
        "loss over many random data sets: real critical points by kind and type and the probability that a "
        "spurious critical point is a local minimum (Wilson intervals).",
    ),
}


def latest_results(results_dir: Path) -> dict[str, dict[str, Any]]:
    """NAME -> {"path": newest file, "date": its date, "older": [older files]} for every dated result file."""
    found: dict[str, list[tuple[str, Path]]] = {}
    if results_dir.is_dir():
        for path in sorted(results_dir.iterdir()):
            m = RESULT_NAME.match(path.name)
            if m and path.is_file():
                found.setdefault(m["name"], []).append((m["date"], path))
    out: dict[str, dict[str, Any]] = {}
    for name, items in sorted(found.items()):
        items.sort(key=lambda item: (item[0], item[1].name))
        date, path = items[-1]
        out[name] = {"path": path, "date": date, "older": [p for _, p in items[:-1]]}
    return out


def script_for(name: str, bench_dir: Path) -> Path | None:
    script = bench_dir / SCRIPTS.get(name, name.replace("-", "_") + ".py")
    return script if script.is_file() else None


def script_docstring(script: Path) -> str:
    try:
        return ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
    except (OSError, SyntaxError, ValueError):
        return ""


class BenchmarkResults(SphinxDirective):
    has_content = False
    required_arguments = 0
    optional_arguments = 0

    def _text(self, text: str, source: str) -> list[nodes.Node]:
        """``text`` as parsed reST when it is clean, else as a literal block."""
        if is_clean_rst(text):
            container = nodes.container()
            self.state.nested_parse(StringList(text.splitlines(), source=source), self.content_offset, container)
            return list(container.children)
        block = nodes.literal_block(text, text)
        block["language"] = "none"
        return [block]

    def run(self) -> list[nodes.Node]:
        bench_dir = Path(self.config.nm_benchmark_dir)
        results_dir = bench_dir / "results"
        self.env.note_dependency(str(results_dir))
        latest = latest_results(results_dir)
        out: list[nodes.Node] = []
        if not latest:
            out.append(nodes.paragraph(text=f"No result files in {results_dir.name}/ yet."))
        for name, info in latest.items():
            path: Path = info["path"]
            self.env.note_dependency(str(path))
            section = nodes.section(ids=[nodes.make_id(f"benchmark-{name}")], names=[nodes.fully_normalize_name(name)])
            section += nodes.title(text=name)
            script = script_for(name, bench_dir)
            if script is not None:
                self.env.note_dependency(str(script))
                para = nodes.paragraph()
                para += nodes.Text("Produced by ")
                para += nodes.literal(text=f"benchmarks/{script.name}")
                para += nodes.Text(". What it measures (the script's docstring):")
                section += para
                section += self._text(script_docstring(script), str(script))
            elif name in COMMANDS:
                command, what = COMMANDS[name]
                para = nodes.paragraph()
                para += nodes.Text("Produced by ")
                para += nodes.literal(text=command)
                para += nodes.Text(". " + what)
                section += para
            para = nodes.paragraph()
            para += nodes.Text("Latest results: ")
            para += nodes.literal(text=f"benchmarks/results/{path.name}")
            para += nodes.Text(f" (dated {info['date']}")
            older = info["older"]
            para += nodes.Text(f"; {len(older)} older file{'s' if len(older) != 1 else ''} not shown)." if older else ").")
            section += para
            text = path.read_text(encoding="utf-8", errors="replace")
            block = nodes.literal_block(text, text, classes=["nm-benchmark-result"])
            block["language"] = "none"
            section += block
            out.append(section)
        with_results = {script_for(n, bench_dir) for n in latest} - {None}
        missing = [s for s in sorted(bench_dir.glob("*.py")) if s not in with_results]
        if missing:
            section = nodes.section(ids=["benchmarks-without-results"], names=["benchmarks without a result file"])
            section += nodes.title(text="Benchmarks without a result file")
            section += nodes.paragraph(text="These scripts have no dated file in benchmarks/results/ yet; run them "
                                            "to measure (the first line of each docstring):")
            items = nodes.bullet_list()
            for script in missing:
                first = script_docstring(script).strip().split("\n\n")[0].replace("\n", " ").replace("``", "")
                item = nodes.list_item()
                para = nodes.paragraph()
                para += nodes.literal(text=f"benchmarks/{script.name}")
                para += nodes.Text(": " + first)
                item += para
                items += item
            section += items
            out.append(section)
        return out


def always_reread(app: Sphinx, env: Any, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    """Pages with the directive: re-read on every build (a new result file is a new dependency)."""
    return [doc for doc in env.found_docs if doc in getattr(env, "nm_benchmark_docs", set())]


def note_doc(app: Sphinx, docname: str, source: list[str]) -> None:
    if "benchmark-results" in source[0]:
        docs = getattr(app.env, "nm_benchmark_docs", set())
        docs.add(docname)
        app.env.nm_benchmark_docs = docs  # type: ignore[attr-defined]


def merge_docs(app: Sphinx, env: Any, docnames: set[str], other: Any) -> None:
    """Parallel reads (``-j``): keep the pages with the directive found by every worker."""
    env.nm_benchmark_docs = getattr(env, "nm_benchmark_docs", set()) | getattr(other, "nm_benchmark_docs", set())


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("nm_benchmark_dir", "benchmarks", "env")
    app.add_directive("benchmark-results", BenchmarkResults)
    app.connect("source-read", note_doc)
    app.connect("env-get-outdated", always_reread)
    app.connect("env-merge-info", merge_docs)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
