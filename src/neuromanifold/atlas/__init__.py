"""The atlas: invariants of many architectures in one SQLite database, filled by resumable sweeps.

Text and HTML of its rows: ``report.atlas``."""

from .merge import MergeConflict, MergeSummary, merge
from .ranges import Expansion, expand
from .store import Atlas, AtlasError, Row, Rows, default_path, to_csv, to_json
from .sweep import SweepInterrupted, SweepSummary, compute_spec, sweep

__all__ = ["Atlas", "AtlasError", "Expansion", "MergeConflict", "MergeSummary", "Row", "Rows", "SweepInterrupted", "SweepSummary",
           "compute_spec", "default_path", "expand", "merge", "sweep", "to_csv", "to_json"]
