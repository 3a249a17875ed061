"""Migrations are history: they import no app code, their dates follow the chain, and they go
down to an empty database and up again on SQLite and (in CI's second pass) PostgreSQL."""

import ast
import itertools
import os
import re
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, make_url, text

from civicreport import MIGRATIONS_DIR, create_app
from civicreport.extensions import db

MIGRATIONS = Path(MIGRATIONS_DIR)
HISTORY_FILES = sorted(MIGRATIONS.glob("versions/*.py")) + [MIGRATIONS / "frozen_types.py"]


def _imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


@pytest.mark.parametrize("path", HISTORY_FILES, ids=lambda path: path.name)
def test_a_migration_imports_no_app_code(path):
    app_imports = [name for name in _imported_modules(path) if name.split(".")[0] == "civicreport"]
    assert app_imports == [], f"{path.name} imports {app_imports}: freeze what it needs in migrations/frozen_types.py"


def _create_date(script):
    match = re.search(r"^Create Date: (.+)$", script.module.__doc__, re.MULTILINE)
    return datetime.fromisoformat(match.group(1))


def test_create_dates_follow_the_chain(app):
    with app.app_context():  # the configuration `flask db` uses, so frozen_types imports as it does there
        scripts = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    chain = [(script.revision, _create_date(script)) for script in reversed(list(scripts.walk_revisions()))]
    out_of_order = [(older, newer) for older, newer in itertools.pairwise(chain) if newer[1] < older[1]]
    assert out_of_order == []


def _round_trip(database_url, tmp_path):
    """Upgrade, downgrade to base, upgrade again; return the differences from the models."""
    fresh = create_app(
        {
            "DATABASE_URL": database_url,
            "MEDIA_ROOT": str(tmp_path / "media"),
            "STORAGE": "local",
            "SECRET_KEY": "k" * 40,
        }
    )
    runner = fresh.test_cli_runner()
    for args in (["db", "upgrade"], ["db", "downgrade", "base"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    with fresh.app_context():
        assert set(db.inspect(db.engine).get_table_names()) <= {"alembic_version"}
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with fresh.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    with fresh.app_context():
        db.engine.dispose()
    return diff


def test_round_trip_on_sqlite(tmp_path):
    assert _round_trip(f"sqlite:///{tmp_path / 'round_trip.sqlite3'}", tmp_path) == []


@pytest.fixture
def postgresql_schema(app):
    """A schema of its own in the suite's PostgreSQL database, dropped afterwards.

    The role may not create databases, but owns this one. The search path holds this schema
    alone, so no migration can see (or drop) the suite's tables in ``public``. ``app`` migrates
    ``public`` first, so pg_trgm lives there and dropping this schema cannot take it along.
    """
    url = os.environ.get("CIVICREPORT_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("CIVICREPORT_DATABASE_URL is not PostgreSQL (CI's second pass sets it)")
    schema = f"round_trip_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    own = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        assert _current_schema(own) == schema  # never downgrade the suite's own tables
        yield own
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _current_schema(url):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT current_schema()")).scalar_one()
    finally:
        engine.dispose()


def test_round_trip_on_postgresql(postgresql_schema, tmp_path):
    assert _round_trip(postgresql_schema.render_as_string(hide_password=False), tmp_path) == []
