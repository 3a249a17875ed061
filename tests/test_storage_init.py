"""`flask storage init` against a real S3 API (moto's server over HTTP), and what /health says
while the bucket is missing: a 503 that names the command, not a raw HeadBucket 404."""

import uuid

import boto3
import pytest
from helpers import assert_error, free_port

from civicreport import create_app

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def _app(tmp_path, **settings):
    base = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "SECRET_KEY": "storage-init-test"}
    return create_app(base | settings)


@pytest.fixture
def s3_app(tmp_path, moto_endpoint):
    bucket = f"civicreport-init-{uuid.uuid4().hex[:8]}"
    app = _app(tmp_path, STORAGE="s3", S3_BUCKET=bucket, S3_ENDPOINT_URL=moto_endpoint, S3_REGION="us-east-1")
    return app, bucket, boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")


def _init(app):
    with app.app_context():
        return app.test_cli_runner().invoke(args=["storage", "init"])


def test_health_names_storage_init_while_the_bucket_is_missing(s3_app):
    app, bucket, _ = s3_app
    error = assert_error(app.test_client().get("/api/v1/health"), 503, "unhealthy")
    assert "flask storage init" in error["message"] and "HeadBucket" not in error["message"]
    assert error["details"]["checks"] == {"database": "ok", "storage": "error: bucket_missing"}


def test_init_creates_a_private_bucket_and_proves_read_write_delete(s3_app):
    app, bucket, s3 = s3_app
    result = _init(app)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"bucket {bucket}: created in us-east-1"
    assert any(line.startswith("public access: blocked") for line in lines)
    assert "bucket ACL: private (no public read or write)" in lines
    assert lines[-2:] == ["permissions: write, read and delete ok", "storage ready"]

    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    grantees = [grant["Grantee"].get("URI") for grant in s3.get_bucket_acl(Bucket=bucket)["Grants"]]
    assert ALL_USERS not in grantees
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0  # the probe object is gone
    assert app.test_client().get("/api/v1/health").status_code == 200


def test_init_again_changes_nothing_that_is_right(s3_app):
    app, bucket, _ = s3_app
    assert _init(app).exit_code == 0
    again = _init(app)
    assert again.exit_code == 0 and again.output.splitlines()[0] == f"bucket {bucket}: exists"


def test_a_failing_step_is_named_and_exits_non_zero(tmp_path, aws_env):
    nowhere = f"http://127.0.0.1:{free_port()}"
    app = _app(tmp_path, STORAGE="s3", S3_BUCKET="b-nowhere", S3_ENDPOINT_URL=nowhere, S3_REGION="us-east-1")
    result = _init(app)
    assert result.exit_code == 1
    assert "storage_unavailable: HeadBucket on bucket b-nowhere failed" in result.output


def test_init_of_local_storage_creates_the_directory_and_probes_it(tmp_path):
    root = tmp_path / "photos"
    app = _app(tmp_path, STORAGE="local", MEDIA_ROOT=str(root))
    result = _init(app)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"directory {root}: created",
        "permissions: write, read and delete ok",
        "storage ready",
    ]
    assert list(root.iterdir()) == []
