"""Casework: objections (异议申诉) and credit-repair requests (信用修复)."""
