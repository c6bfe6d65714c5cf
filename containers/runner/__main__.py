"""``python -m containers.runner``: the same command line as ``runner.py``."""

import sys

from .runner import main

sys.exit(main())
