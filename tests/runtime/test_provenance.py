"""Issue 21 (part 3, provenance): every analyze report records what produced it, in the JSON and the HTML report."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from importlib.metadata import version

import neuromanifold as nm
from neuromanifold.report.html import render_html


def test_cli_json_carries_provenance():
    out = subprocess.run([sys.executable, "-m", "neuromanifold.cli", "analyze", "mlp(widths=(2,1,1), r=3)", "--seed",
                          "7", "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    prov = json.loads(out.stdout)["provenance"]
    assert prov["seed"] == 7 and prov["prime"] == json.loads(out.stdout)["prime"]
    assert prov["neuromanifold"] == version("neuromanifold")
    assert prov["dependencies"]["numpy"] == version("numpy") and prov["dependencies"]["python-flint"] == version(
        "python-flint")
    assert prov["host"] == socket.gethostname() and prov["cores"] == os.cpu_count()
    assert prov["python"] == sys.version.split()[0]
    assert prov["wall_seconds"] >= 0 and re.match(r"\d{4}-\d\d-\d\dT", prov["utc"])
    assert prov["options"]["metric"] == "generic"


def test_html_report_embeds_provenance():
    rep = nm.analyze("linear(widths=(2,1,2))", only="dimension", seed=3)
    page = render_html(rep)
    embedded = page.split('id="report-json">')[1].split("</script>")[0]
    data = json.loads(embedded.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"))
    assert data["provenance"]["seed"] == 3 and data["provenance"]["neuromanifold"] == nm.__version__
