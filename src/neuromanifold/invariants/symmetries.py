"""Hidden symmetries as polynomial vector fields in the kernel of d mu (search + verification).

Placeholder hook: the search is not implemented yet, so defective cases stay ``lower_bound``.
"""

from __future__ import annotations

from typing import Any


def certify_with_kernel_fields(ctx: Any, data: Any, G_p: Any) -> None:
    """Try to close the gap lower < upper of ``data`` (not implemented yet: leaves it open)."""
    return None
