"""One module per family of AWS API keys; responder/keys/registry.py lists them."""
