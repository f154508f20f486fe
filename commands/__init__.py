"""The `flask` command line (CONTRACT §4): operator entry points, one module per concern."""
