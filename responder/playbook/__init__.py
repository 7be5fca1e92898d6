"""The playbook language: models, the YAML source, references, checks and parameters. No AWS."""
