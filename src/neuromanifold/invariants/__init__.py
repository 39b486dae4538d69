"""One module per entry of the dictionary; each invariant returns a ``Result``."""
