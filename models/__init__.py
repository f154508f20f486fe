"""Peewee models and the policy as plain functions over them. Knows nothing of Flask, WeChat or the bot."""

from models.base import bind_database, db

__all__ = ["bind_database", "db"]
