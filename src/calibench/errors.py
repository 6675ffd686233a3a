"""The one exception type that calibench raises for bad input.

Every problem a user can cause (a malformed file, an unknown name, an invalid option) is a
:class:`CalibenchError` whose message is one line naming the problem; the CLI prints that
line and exits with code 2 instead of showing a traceback.
"""

from __future__ import annotations


class CalibenchError(ValueError):
    """Bad input, reported as one clear line (exit code 2 on the command line)."""
