"""``neuromanifold architectures``: the architecture families, their parameters and defaults."""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(sub: Any) -> None:
    p_ar = sub.add_parser("architectures", help="list the architecture families, their parameters and defaults")
    p_ar.add_argument("--json", action="store_true", help="print JSON instead of text")
    p_ar.set_defaults(func=_cmd_architectures)


def _cmd_architectures(args: argparse.Namespace) -> int:
    from ..architectures import families
    from ..report.text import architectures_text

    out = []
    for name, cls in families().items():
        params = [
            {"name": p.name, "default": None if p.required else p.default, "required": p.required, "doc": p.doc}
            for p in cls.spec_params
        ]
        out.append({"family": name, "summary": cls.summary, "form": cls.form, "parameters": params})
    print(json.dumps(out, indent=2) if args.json else architectures_text(out))
    return 0
