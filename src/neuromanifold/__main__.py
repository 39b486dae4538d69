"""``python -m neuromanifold``: the command line (the same as the ``neuromanifold`` script)."""

import sys

from .cli import main

sys.exit(main())
