"""Every HTTP entry, one blueprint a module."""
