"""The S3 client against the S3-compatible stand-in: signed PUTs land and are served
under the public prefix; a wrong secret is refused with S3's own code; a 5xx on one PUT
is retried; the secret never appears in an error."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from piper_desktop.clients.errors import ApiError
from piper_desktop.clients.s3 import S3Client, S3Target, public_url
from piper_desktop.sandbox.httpbase import Fault
from piper_desktop.sandbox.s3 import SANDBOX_ACCESS_KEY_ID, SANDBOX_SECRET_KEY, S3Sandbox


@pytest.fixture
def s3() -> Iterator[S3Sandbox]:
    with S3Sandbox() as server:
        assert isinstance(server, S3Sandbox)
        yield server


def _target(s3: S3Sandbox, key_id: str = SANDBOX_ACCESS_KEY_ID) -> S3Target:
    return S3Target.parse(
        "s3://piper-photos/posts/",
        endpoint_url=s3.base_url,
        region="us-east-1",
        access_key_id=key_id,
    )


def test_put_then_public_get(s3: S3Sandbox) -> None:
    target = _target(s3)
    client = S3Client(target, SANDBOX_SECRET_KEY)
    try:
        client.put("a b/1.jpg", b"\xff\xd8jpeg", "image/jpeg")
    finally:
        client.close()
    assert s3.objects == {"piper-photos/posts/a b/1.jpg": b"\xff\xd8jpeg"}
    url = public_url(s3.public_prefix(), target, "a b/1.jpg")
    answer = httpx.get(url, trust_env=False)
    assert answer.status_code == 200 and answer.content == b"\xff\xd8jpeg"
    assert answer.headers["content-type"] == "image/jpeg"


def test_wrong_secret_is_signature_mismatch(s3: S3Sandbox) -> None:
    client = S3Client(_target(s3), "not-the-secret-at-all")
    with pytest.raises(ApiError) as info:
        client.put("1.jpg", b"x", "image/jpeg")
    client.close()
    assert info.value.code == "SignatureDoesNotMatch"
    assert "not-the-secret" not in str(info.value)
    assert s3.objects == {}
    # a refusal is not retried
    assert len([r for r in s3.requests if r.method == "PUT"]) == 1


def test_signature_mismatch_variant() -> None:
    with S3Sandbox(signature_mismatch=True) as server:
        assert isinstance(server, S3Sandbox)
        client = S3Client(_target(server), SANDBOX_SECRET_KEY)
        with pytest.raises(ApiError) as info:
            client.put("1.jpg", b"x", "image/jpeg")
        client.close()
    assert info.value.code == "SignatureDoesNotMatch"


def test_unknown_key_id(s3: S3Sandbox) -> None:
    client = S3Client(_target(s3, "NOSUCHKEY"), SANDBOX_SECRET_KEY)
    with pytest.raises(ApiError) as info:
        client.put("1.jpg", b"x", "image/jpeg")
    client.close()
    assert info.value.code == "InvalidAccessKeyId"


def test_5xx_on_one_put_is_retried(s3: S3Sandbox) -> None:
    s3.faults.add(Fault(r"^/piper-photos/", status=503))
    client = S3Client(_target(s3), SANDBOX_SECRET_KEY)
    client.put("1.jpg", b"data", "image/jpeg")
    client.close()
    puts = [r for r in s3.requests if r.method == "PUT"]
    assert [r.status for r in puts] == [503, 200]
    assert s3.objects == {"piper-photos/posts/1.jpg": b"data"}


def test_5xx_every_time_gives_up(s3: S3Sandbox) -> None:
    s3.faults.add(Fault(r"^/piper-photos/", status=500, times=10))
    client = S3Client(_target(s3), SANDBOX_SECRET_KEY)
    with pytest.raises(ApiError) as info:
        client.put("1.jpg", b"data", "image/jpeg")
    client.close()
    assert info.value.http_status == 500
    assert len([r for r in s3.requests if r.method == "PUT"]) == 3


@pytest.mark.parametrize(
    ("target", "endpoint", "region", "key", "field"),
    [
        ("http://bucket/x", "http://127.0.0.1:1", "r", "k", "photos.upload_target"),
        ("s3://bucket/x", "ftp://127.0.0.1", "r", "k", "photos.upload_endpoint"),
        ("s3://bucket/x", "http://127.0.0.1:1", " ", "k", "photos.upload_region"),
        ("s3://bucket/x", "http://127.0.0.1:1", "r", "", "photos.upload_access_key_id"),
    ],
)
def test_target_refusals_name_the_setting(
    target: str, endpoint: str, region: str, key: str, field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        S3Target.parse(target, endpoint_url=endpoint, region=region, access_key_id=key)
