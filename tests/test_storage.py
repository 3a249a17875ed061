"""Storage backends: LocalStorage on tmp_path, S3Storage over real HTTP against moto's server."""

import os
import time
import urllib.request
import uuid

import boto3
import pytest

from civicreport.errors import as_app_error
from civicreport.media.errors import StorageUnavailable
from civicreport.media.storage import (
    LocalStorage,
    S3Storage,
    build_storage,
    object_keys,
)
from tests.helpers import free_port

SHA = "ab" + "cd" + "0" * 60
DATA = b"\xff\xd8\xff evidence bytes"


# --- keys and factory --------------------------------------------------------------------


def test_original_keys_carry_their_tag():
    tagged = object_keys(SHA, "jpeg", original_tag="0f" * 16)
    assert tagged["original"] == f"originals/ab/cd/{SHA}-{'0f' * 16}.jpg"
    assert tagged["display"] == object_keys(SHA, "jpeg")["display"]
    with pytest.raises(ValueError):
        object_keys(SHA, "jpeg", original_tag="../x")


def test_object_keys_are_content_addressed():
    assert object_keys(SHA, "heif") == {
        "original": f"originals/ab/cd/{SHA}.heic",
        "display": f"display/ab/cd/{SHA}.jpg",
        "thumb": f"thumb/ab/cd/{SHA}.jpg",
    }
    assert object_keys(SHA, "jpeg")["original"].endswith(".jpg")


@pytest.mark.parametrize("sha, fmt", [("AB" * 32, "jpeg"), ("ab" * 31, "jpeg"), ("../" + SHA[3:], "png"), (SHA, "gif")])
def test_object_keys_reject_bad_input(sha, fmt):
    with pytest.raises(ValueError):
        object_keys(sha, fmt)


def test_build_storage(tmp_path):
    local = build_storage({"STORAGE": "local", "MEDIA_ROOT": str(tmp_path)})
    assert isinstance(local, LocalStorage)
    s3 = build_storage({"STORAGE": "s3", "S3_BUCKET": "b", "S3_ENDPOINT_URL": "", "S3_REGION": "", "S3_PREFIX": "p"})
    assert isinstance(s3, S3Storage) and s3.prefix == "p/"
    with pytest.raises(ValueError):
        build_storage({"STORAGE": "ftp"})
    with pytest.raises(ValueError):
        build_storage({"STORAGE": "s3", "S3_BUCKET": ""})


# --- LocalStorage ------------------------------------------------------------------------


def test_local_round_trip(tmp_path):
    store = LocalStorage(str(tmp_path / "media"))
    key = object_keys(SHA, "jpeg")["original"]
    store.check()
    store.put(key, DATA, "image/jpeg")
    store.put(key, DATA, "image/jpeg")  # content-addressed: storing again is harmless
    assert store.get(key) == DATA
    assert store.exists(key)
    assert store.public_url(key) is None
    assert list(store.iter_keys()) == [key]
    assert list(store.iter_keys("display/")) == []
    store.delete(key)
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(KeyError):
        store.get(key)


def test_local_write_leaves_no_temp_files(tmp_path):
    store = LocalStorage(str(tmp_path))
    for i in range(3):
        store.put(f"a/{i}.jpg", DATA, "image/jpeg")
    assert sorted(os.listdir(tmp_path / "a")) == ["0.jpg", "1.jpg", "2.jpg"]


@pytest.mark.parametrize("key", ["../x.jpg", "a/../../x.jpg", "/etc/passwd", "a//b", "a/./b", "", "a\\..\\b", "a/"])
def test_local_rejects_unsafe_keys(tmp_path, key):
    store = LocalStorage(str(tmp_path / "media"))
    with pytest.raises(ValueError):
        store.put(key, DATA, "image/jpeg")
    with pytest.raises(ValueError):
        store.get(key)


def test_local_unwritable_root_is_unavailable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    store = LocalStorage(str(blocker / "media"))  # a file where a directory should be
    with pytest.raises(StorageUnavailable) as err:
        store.check()
    assert err.value.code == "storage_unavailable"
    with pytest.raises(StorageUnavailable):
        store.put("a/b.jpg", DATA, "image/jpeg")


# --- S3Storage against moto's HTTP server --------------------------------------------------


@pytest.fixture(scope="module")
def bucket(moto_endpoint):
    name = f"civicreport-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3(moto_endpoint, bucket):
    return S3Storage(bucket, endpoint_url=moto_endpoint, region="us-east-1", prefix=f"t{uuid.uuid4().hex[:6]}")


def test_s3_round_trip(s3):
    key = object_keys(SHA, "jpeg")["display"]
    s3.check()
    assert not s3.exists(key)
    s3.put(key, DATA, "image/jpeg")
    s3.put(key, DATA, "image/jpeg")
    assert s3.exists(key)
    assert s3.get(key) == DATA
    assert list(s3.iter_keys()) == [key]
    assert list(s3.iter_keys("thumb/")) == []
    s3.delete(key)
    s3.delete(key)
    assert not s3.exists(key)
    with pytest.raises(KeyError):
        s3.get(key)


def test_s3_objects_live_under_the_prefix_with_their_content_type(s3, moto_endpoint, bucket):
    s3.put("thumb/x.jpg", DATA, "image/jpeg")
    raw = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    head = raw.head_object(Bucket=bucket, Key=f"{s3.prefix}thumb/x.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert head["ContentLength"] == len(DATA)


def test_s3_presigned_url_serves_the_bytes(s3):
    s3.put("originals/p.jpg", DATA, "image/jpeg")
    url = s3.public_url("originals/p.jpg")
    assert "X-Amz-Signature=" in url
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == DATA
        assert response.headers["Content-Type"] == "image/jpeg"


def test_s3_original_urls_are_short_lived_downloads_of_their_image_type(moto_endpoint, bucket):
    store = S3Storage(bucket, endpoint_url=moto_endpoint, region="us-east-1", private_presign_seconds=120)
    key = object_keys(SHA, "jpeg", original_tag="0f" * 16)["original"]
    store.put(key, DATA + b"<html><script>alert(1)</script>", "text/html")  # as if stored with a wrong type
    url = store.private_url(key)
    assert "X-Amz-Expires=120" in url and url != store.public_url(key)
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["Content-Disposition"] == 'attachment; filename="original.jpg"'
    assert LocalStorage("/nonexistent").private_url(key) is None  # the app serves it after its own check


def test_s3_presigned_url_stays_the_same_for_half_its_life(moto_endpoint, bucket):
    store = S3Storage(bucket, endpoint_url=moto_endpoint, region="us-east-1", presign_seconds=2)
    store.put("a.jpg", DATA, "image/jpeg")
    first = store.public_url("a.jpg")
    assert store.public_url("a.jpg") == first
    assert store.public_url("b.jpg").split("?")[0].endswith("/b.jpg")
    time.sleep(1.1)  # into the next one-second window: signed afresh
    again = store.public_url("a.jpg")
    assert again != first
    with urllib.request.urlopen(again, timeout=5) as response:
        assert response.read() == DATA


def test_s3_missing_bucket_is_unavailable(moto_endpoint):
    store = S3Storage("no-such-bucket", endpoint_url=moto_endpoint, region="us-east-1", max_attempts=1)
    with pytest.raises(StorageUnavailable):
        store.check()
    with pytest.raises(StorageUnavailable):
        store.put("a.jpg", DATA, "image/jpeg")


def test_s3_unreachable_endpoint_fails_fast(aws_env):
    store = S3Storage(
        "bucket",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region="us-east-1",
        connect_timeout=1,
        read_timeout=1,
        max_attempts=1,
    )
    for call in (
        store.check,
        lambda: store.put("a.jpg", DATA, "image/jpeg"),
        lambda: store.get("a.jpg"),
        lambda: store.exists("a.jpg"),
        lambda: store.delete("a.jpg"),
        lambda: list(store.iter_keys()),
    ):
        start = time.perf_counter()
        with pytest.raises(StorageUnavailable) as err:
            call()
        assert err.value.code == "storage_unavailable"
        assert as_app_error(err.value).status == 503
        assert time.perf_counter() - start < 3
