"""`python -m leancot.cli`: the same as the `leancot` command."""

import sys

from leancot.cli import main

sys.exit(main())
