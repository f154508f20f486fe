"""The benchmarks. They run the service in development mode (against the doubles), asked for explicitly: development
mode is never inferred from a missing setting (docs/CONTRACT.md §1)."""

import os

os.environ.setdefault("HEGUI_ENV", "development")
