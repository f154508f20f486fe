"""One gateway per outside system (WeChat API, WeCom robot, SMS): HTTP, typed errors, bounded retries; no jobs
here.
"""
