"""The `flask` command line (docs/CONTRACT.md §4): operator entry points, one module per concern."""
