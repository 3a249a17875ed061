"""Requests in and views out of the oversight layer (marshmallow schemas)."""
