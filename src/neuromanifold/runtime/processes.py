"""Processes on this machine: whether a pid is alive (for the claims of atlas sweeps and the lock of the
ahead-of-time kernel build)."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """Whether a process with this pid runs on this machine (a zombie, dead but not yet reaped by its
    parent, counts as gone; a process we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


__all__ = ["alive"]
