"""``python -m minicnn``: the command line (see ``minicnn/cli.py``)."""

import sys

from minicnn.cli import main

sys.exit(main())
