"""The report: what it shows (rules, feeds), its frozen snapshot, numbering, signing, corrections, and its
rendering (PDF engine, QR code).
"""
