"""Sphinx configuration of the neuromanifold documentation.

Build (warnings are errors; nothing is downloaded, the tutorial notebook is executed):

    .venv/bin/sphinx-build -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT / "src"))  # the package from this tree, installed or not

# one BLAS/torch thread while the notebook and autodoc import the package (2 shared cores)
os.environ.setdefault("OMP_NUM_THREADS", "1")

project = "neuromanifold"
author = "the neuromanifold developers"
copyright = "2026, the neuromanifold developers"
try:
    from neuromanifold.version import __version__ as release
except Exception:  # pragma: no cover - the version comes from the package metadata
    release = "0.1.0"
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinxarg.ext",  # sphinx-argparse: the CLI reference from cli.build_parser()
    "myst_nb",  # Markdown pages (myst-parser) and the executed tutorial notebook
    "nm_benchmarks",  # docs/_ext: the newest result file of every benchmark
    "nm_docstrings",  # docs/_ext: docstrings that are not valid reStructuredText are shown verbatim
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "jupyter_execute"]

# MyST: ::: fences, definition lists; heading anchors for cross-page links
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# myst-nb: the tutorial is run at every build, and an error in a cell fails the build
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 900  # seconds per cell
nb_execution_show_tb = True
nb_execution_in_temp = True  # the notebook runs in a scratch directory: nothing is written into docs/
nb_kernel_rgx_aliases = {".*": "python3"}  # whatever kernel the notebook names: this interpreter's ipykernel

# autodoc: the public API, members in source order, signatures with types
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True}
autodoc_mock_imports: list[str] = []
autodoc_preserve_defaults = True

# the theme ships its assets: no page loads anything from the network.  Formulas are written as code, and
# notebook outputs are shown as text/plain or images rather than text/latex (which would need MathJax from a CDN).
html_theme = "furo"
html_title = f"neuromanifold {release}"
html_static_path = ["_static"]
html_css_files = ["nm.css"]
nb_mime_priority_overrides = [("html", "text/latex", None), ("dirhtml", "text/latex", None)]

# benchmarks page (docs/_ext/nm_benchmarks.py)
nm_benchmark_dir = str(ROOT / "benchmarks")

nitpicky = False
highlight_language = "none"  # code blocks without a language (CLI usage, verbatim docstrings) are not lexed as Python
smartquotes = False  # quotes and "--" in specs, commands and help texts are shown as typed
suppress_warnings: list[str] = []
