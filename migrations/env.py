"""Alembic environment: runs migrations on the app's engine and metadata."""

from alembic import context
from flask import current_app

from civicreport.extensions import db


def _configure(**kwargs):
    options = {"compare_type": True, **current_app.extensions["migrate"].configure_args, **kwargs}
    context.configure(target_metadata=db.metadata, **options)


def run_offline():
    """Emit SQL for the configured URL without connecting."""
    _configure(url=db.engine.url.render_as_string(hide_password=False), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online():
    with db.engine.connect() as connection:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
