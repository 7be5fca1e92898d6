"""One account: run a playbook (plan, apply, verify, undo), its journal, locks, runs and report. Its folders are
layers, lowest first: journal, running, report, commands (tests/test_layers.py)."""
