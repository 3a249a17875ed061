"""WSGI entry point: ``gunicorn wsgi:app``."""

from civicreport import create_app

app = create_app()
