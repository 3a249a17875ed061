"""Alembic environment: runs migrations on the app's engine and metadata.

The app imports here are the present (the engine, and the models autogenerate compares with);
the versions are history and import none of it (see frozen_types.py).
"""

from alembic import context
from flask import current_app

from civicreport.db_types import UTCDateTime
from civicreport.extensions import db


def _render_item(type_, obj, autogen_context):
    """Write the app's UTC column type as its frozen copy, so a new migration imports no app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import frozen_types")
        return "frozen_types.UTCDateTime()"
    return False


def _configure(**kwargs):
    migrate_args = current_app.extensions["migrate"].configure_args
    options = {"compare_type": True, "render_item": _render_item, **migrate_args, **kwargs}
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
