"""Entry point for `python -m localdruid`."""

import sys

from localdruid.cli import main

sys.exit(main())
