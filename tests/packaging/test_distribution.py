"""Issue 22, packaging: ``python -m build`` makes an sdist and a wheel (the wheel built from the sdist, as
``build`` does by default, so the sdist is complete); the wheel installs alone into a clean venv and runs.

The clean venv has no access to the source tree: the wheel is installed with ``--no-deps --no-index``,
and the dependencies, already installed in the test venv from the same lock (.ci/constraints.txt), are
made importable by a ``.pth`` line pointing at the test venv's site-packages (a plain path line: the
editable install's finder in that directory is *not* activated, so ``neuromanifold`` can only come from
the wheel).  The version is single-sourced (pyproject.toml) and ``--version`` shows it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
pytestmark = pytest.mark.skipif(
    subprocess.run([sys.executable, "-c", "import build"], capture_output=True).returncode != 0,
    reason="the 'build' package is not installed (it is in the test extra: pip install -e '.[test]')",
)


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))} failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """sdist and wheel built from a copy of the sources git knows (tracked, or new and not ignored: no build
    artefacts of this tree leak in)."""
    tmp = tmp_path_factory.mktemp("dist")
    src = tmp / "src-tree"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True).stdout.split("\0")
    files = [f for f in files if f and (ROOT / f).is_file()]
    if not files:
        pytest.skip("not a git checkout: cannot list the tracked sources")
    for f in files:
        (src / f).parent.mkdir(parents=True, exist_ok=True)
        (src / f).write_bytes((ROOT / f).read_bytes())
    out = tmp / "out"
    # --no-isolation: build with the setuptools of the test venv (pinned in the lock), nothing downloaded
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)])
    (out / "sources.txt").write_text("\n".join(files))
    return out


def test_sdist_and_wheel_are_built_with_the_version(dist: Path) -> None:
    sdists = list(dist.glob("*.tar.gz"))
    wheels = list(dist.glob("*.whl"))
    assert [p.name for p in sdists] == [f"neuromanifold-{VERSION}.tar.gz"]
    assert [p.name for p in wheels] == [f"neuromanifold-{VERSION}-py3-none-any.whl"]
    with tarfile.open(sdists[0]) as tar:
        names = set(tar.getnames())
    base = f"neuromanifold-{VERSION}"
    for needed in ("pyproject.toml", "README.md", "CHANGELOG.md", "src/neuromanifold/__init__.py",
                   "src/neuromanifold/homotopy/compiled.py"):
        assert f"{base}/{needed}" in names, needed
    with zipfile.ZipFile(wheels[0]) as whl:
        wnames = set(whl.namelist())
        meta = whl.read(f"neuromanifold-{VERSION}.dist-info/METADATA").decode()
        entry = whl.read(f"neuromanifold-{VERSION}.dist-info/entry_points.txt").decode()
    src_modules = {f.removeprefix("src/") for f in (dist / "sources.txt").read_text().split("\n")
                   if f.startswith("src/neuromanifold/") and f.endswith(".py")}
    assert src_modules <= wnames, sorted(src_modules - wnames)[:10]
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in wnames)
    assert f"Version: {VERSION}" in meta
    assert "Requires-Dist: torch==2.13.0" in meta  # the pin survives into the wheel
    assert "neuromanifold = neuromanifold.cli:main" in entry


def test_wheel_installs_in_a_clean_venv_and_runs(dist: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    py = venv / "bin" / "python"
    wheel = next(dist.glob("*.whl"))
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)])
    site = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    # dependencies from the test venv (same lock); a plain path line does not run that directory's .pth files
    (Path(site) / "zz_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    where = _run([str(py), "-c", "import neuromanifold, sys; print(neuromanifold.__file__); print(neuromanifold.__version__)"],
                 env=env, cwd=tmp_path).stdout.split()
    assert where[0].startswith(site), where  # the wheel's copy, not the source tree
    assert where[1] == VERSION
    exe = venv / "bin" / "neuromanifold"
    assert _run([str(exe), "--version"], env=env, cwd=tmp_path).stdout.strip() == f"neuromanifold {VERSION}"
    out = _run([str(exe), "analyze", "linear(widths=(2,1,2))", "--only", "dimension,degree", "--json"],
               env=env, cwd=tmp_path).stdout
    import json

    results = json.loads(out)["invariants"]
    # rank-one 2x2 matrices: dimension 3, degree 2 (the determinant's hypersurface)
    assert (results["dimension"]["value"], results["dimension"]["status"]) == (3, "certified")
    assert results["degree"]["value"] == 2


def test_version_is_single_sourced() -> None:
    """pyproject.toml holds the only version string; the package reads it from the installed metadata."""
    import neuromanifold
    from neuromanifold.cli import main

    assert neuromanifold.__version__ == VERSION
    hits = subprocess.run(["git", "grep", "-n", "-F", f'"{VERSION}"', "--", "src"], cwd=ROOT,
                          capture_output=True, text=True).stdout
    assert hits == "", f"a hard-coded version string in src/:\n{hits}"
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
