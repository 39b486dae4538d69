"""torch helpers for the core: a lazy import (the core must not pay torch's import unless it uses it)
and one thread guard (small batched tensor work runs fastest on one intra-op thread; on a busy
machine intra-op threading of tiny solves costs up to ~100x)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


def torch_module() -> Any:
    """The ``torch`` module, imported on first use."""
    import torch

    return torch


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with torch on one intra-op thread; the previous thread count is restored after."""
    torch = torch_module()
    n = torch.get_num_threads()
    if n != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if n != 1:
            torch.set_num_threads(n)


__all__ = ["torch_module", "one_thread"]
