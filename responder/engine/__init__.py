"""One account: run a playbook (plan, apply, verify, undo), its journal, locks, runs and report."""
