"""responder: incident response for leaked Amazon Bedrock API keys."""

__version__ = "0.1.0"
