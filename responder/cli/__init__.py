"""The command line. Typer draws help and errors with rich when it is installed: plain Click output reads the same
in a terminal and in a ticket, and skipping rich keeps `responder --help` fast (it costs ~0.1 s to import)."""

import os

os.environ.setdefault("TYPER_USE_RICH", "0")  # read by typer at import: this package imports it after this line
