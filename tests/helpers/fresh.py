"""Code run in a fresh interpreter (imports measured from nothing) whose last printed line is JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def fresh_json(code: str) -> Any:
    """Run ``code`` with ``python -c`` in a new process; the JSON value of the last line it prints."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
