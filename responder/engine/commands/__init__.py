"""What each command does, composed from the layers below: start, resume or roll back a run, identify a key, read
an alert, investigate, notify, the permissions a playbook needs. A command reaches the report only after its run
has contained the key (tests/test_first_request.py watches that)."""
