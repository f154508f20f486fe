"""The tables: peewee models, their status vocabularies, and their data faces (queries and state changes as methods
or functions beside each table); the migrations and the seed.
"""
