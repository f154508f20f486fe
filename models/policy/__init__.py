"""The service's rules as plain functions over the tables: the report, ingestion, casework, USCC, working days,
staff access. Knows nothing of Flask, WeChat or the bot.
"""
