"""How computations run, independent of the mathematics: wall-clock budgets and cuts (``budget``),
progress on stderr with or without a terminal (``progress``), Dask scale-out (``cluster``)."""
