"""``python -m calibench`` runs the command line."""

import sys

from calibench.cli import main

sys.exit(main())
