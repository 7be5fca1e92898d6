"""How many steps (or, in a fan-out, accounts) go at once: the one default and ceiling the CLI, the executor and
the fan-out share. It imports nothing: the CLI reads it for its option defaults before any run needs pydantic."""

# A run of one key has two changes; `contain-bedrock-keys` has two per key, and IAM throttles beyond a few requests
# at once (botocore's adaptive retry then slows us down).
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 64  # IAM throttles an account's callers well before this
