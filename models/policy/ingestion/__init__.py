"""Ingestion: the one validation path of the three doors (files, API, console), the loaders per data kind, and the
file formats and cell values departments send.
"""
