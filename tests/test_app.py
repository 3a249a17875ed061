"""App skeleton: configuration, health, the one error shape, migrations."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from civicreport import config as config_module
from civicreport.extensions import db
from tests.helpers import assert_error


def test_environment_overrides_defaults_with_types(tmp_path):
    settings = config_module.load(
        str(tmp_path),
        environ={
            "CIVICREPORT_MAX_PHOTOS_PER_REPORT": "9",
            "CIVICREPORT_PHOTO_GPS_MISMATCH_M": "150.5",
            "CIVICREPORT_DATABASE_URL": "postgresql+psycopg://u:p@h/db",
            "CIVICREPORT_STORAGE": "s3",
            "CIVICREPORT_SECRET_KEY": "a-long-random-value",
        },
    )
    assert settings.MAX_PHOTOS_PER_REPORT == 9
    assert settings.PHOTO_GPS_MISMATCH_M == 150.5
    assert settings.DATABASE_URL == "postgresql+psycopg://u:p@h/db"
    assert settings.STORAGE == "s3"
    defaults = config_module.load(str(tmp_path), environ={})
    assert defaults.DATABASE_URL.endswith("civicreport.sqlite3")
    assert str(tmp_path / "media") == defaults.MEDIA_ROOT


def test_a_blank_variable_switches_off_what_blank_means_off_and_leaves_the_rest(tmp_path):
    settings = config_module.load(
        str(tmp_path),
        environ={
            "CIVICREPORT_MAP_TILE_URL": "",
            "CIVICREPORT_SUBMIT_LIMIT_PER_IP": "",
            "CIVICREPORT_TIMEZONE": "",
            "CIVICREPORT_MAX_PHOTOS_PER_REPORT": "",
        },
    )
    assert (settings.MAP_TILE_URL, settings.SUBMIT_LIMIT_PER_IP) == ("", "")
    assert settings.TIMEZONE == "Asia/Shanghai"
    assert settings.MAX_PHOTOS_PER_REPORT == 6


def test_health_checks_database_and_storage(client):
    body = client.get("/api/v1/health").get_json()
    assert body == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}


def test_unknown_route_and_method_use_the_error_shape(client):
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(client.delete("/api/v1/categories"), 405, "method_not_allowed")
    assert_error(client.post("/api/v1/reports", data="x", content_type="text/plain"), 400, "unsupported_content_type")
    assert_error(client.post("/api/v1/reports", data="{", content_type="application/json"), 400, "malformed_json")


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_flask_db_upgrade_on_an_empty_sqlite_database(tmp_path):
    from civicreport import create_app

    fresh = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
            "MEDIA_ROOT": str(tmp_path / "media"),
            "STORAGE": "local",
        }
    )
    result = fresh.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        tables = set(db.inspect(db.engine).get_table_names())
    assert {"report", "report_event", "media", "grid_cell", "routing_rule", "outbox", "api_token"} <= tables


def test_migration_0008_gives_existing_photos_their_dhash_bands(tmp_path):
    from civicreport import create_app

    fresh = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'old.sqlite3'}",
            "MEDIA_ROOT": str(tmp_path / "media"),
            "STORAGE": "local",
        }
    )
    runner = fresh.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "9d4a6c1f2b73"]).exit_code == 0  # 0007, before the bands
    columns = (
        "id, sha256, original_key, display_key, thumb_key, content_type, byte_size, width, height, "
        "display_width, display_height, thumb_width, thumb_height, phash, kind, position, created_at"
    )
    with fresh.app_context(), db.engine.begin() as conn:
        for media_id, phash in (("a" * 32, "0123456789abcdef"), ("b" * 32, "ff00ff00ff00ff00")):
            conn.execute(
                text(
                    f"INSERT INTO media ({columns}) VALUES (:id, :sha, 'o', 'd', 't', 'image/jpeg', "
                    "1, 1, 1, 1, 1, 1, 1, :phash, 'evidence', 0, '2026-11-01 00:00:00')"
                ),
                {"id": media_id, "sha": media_id * 2, "phash": phash},
            )
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with fresh.app_context(), db.engine.connect() as conn:
        rows = conn.execute(text("SELECT media_id, band, value FROM media_phash_band ORDER BY media_id, band")).all()
    assert [tuple(r) for r in rows] == (
        [("a" * 32, i, v) for i, v in enumerate(bytes.fromhex("0123456789abcdef"))]
        + [("b" * 32, i, v) for i, v in enumerate(bytes.fromhex("ff00ff00ff00ff00"))]
    )


@pytest.mark.parametrize(
    "deployed", [{"DATABASE_URL": "postgresql+psycopg://u:p@127.0.0.1:1/x"}, {"STORAGE": "s3", "S3_BUCKET": "photos"}]
)
def test_a_deployment_refuses_the_published_secret(tmp_path, deployed):
    local = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "STORAGE": "local"}
    with pytest.raises(ValueError, match="SECRET_KEY"):
        config_module.load(str(tmp_path), local | deployed, environ={})
    assert config_module.load(str(tmp_path), local | deployed | {"SECRET_KEY": "k" * 40}, environ={}).SECRET_KEY
    assert config_module.DEFAULTS["SECRET_KEY"] == config_module.load(str(tmp_path), local, environ={}).SECRET_KEY


def test_postgresql_statements_are_planned_for_their_own_values(app):
    """No prepared statements on PostgreSQL (a generic plan made the 5 M bbox page 8× slower): the
    connection psycopg opens never prepares, however often a statement runs (CI's PostgreSQL pass)."""
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            pytest.skip("PostgreSQL only: CI's second pass runs it")
        for _ in range(8):
            conn.execute(text("SELECT count(*) FROM report WHERE lat > :lat"), {"lat": 29.0})
        assert conn.connection.driver_connection.prepare_threshold is None
        assert conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar() == 0
