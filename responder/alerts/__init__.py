"""Alerts in: scanners' reports and cloud detectors' findings, read into the keys and principals they name.

The contract is source.py (`AlertSource`, `Finding`), one module per format in sources/, the registry
registry.py; reading.py bounds the file, located.py reads a partly recorded key from the repository and
confirms it, collected.py de-duplicates keys by fingerprint."""
