"""The conversation: flows, free-text slot parsing, state in Redis. Knows nothing of Flask."""
