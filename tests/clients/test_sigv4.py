"""SigV4 against AWS's published examples: the Signature Version 4 test suite
(get-vanilla, get-vanilla-query-order-key-case, post-vanilla) and the S3 API reference's
"Examples: Signature Calculations" (GET object with a Range, PUT object)."""

from __future__ import annotations

import hashlib

from piper_desktop.clients.sigv4 import (
    EMPTY_SHA256,
    Credentials,
    authorization,
    parse_authorization,
    signature,
)

SUITE = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
S3_DOCS = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
SUITE_HEADERS = {"Host": "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z"}


def _suite(method: str, url: str) -> str:
    sig, signed = signature(
        SUITE,
        method,
        url,
        SUITE_HEADERS,
        EMPTY_SHA256,
        amz_date="20150830T123600Z",
        region="us-east-1",
        service="service",
    )
    assert signed == "host;x-amz-date"
    return sig


def test_get_vanilla() -> None:
    assert _suite("GET", "https://example.amazonaws.com/") == (
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )


def test_get_vanilla_query_order_key_case() -> None:
    assert _suite("GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1") == (
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
    )


def test_post_vanilla() -> None:
    assert _suite("POST", "https://example.amazonaws.com/") == (
        "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
    )


def test_s3_get_object_with_range() -> None:
    headers = {
        "Host": "examplebucket.s3.amazonaws.com",
        "Range": "bytes=0-9",
        "x-amz-content-sha256": EMPTY_SHA256,
        "x-amz-date": "20130524T000000Z",
    }
    value = authorization(
        S3_DOCS,
        "GET",
        "https://examplebucket.s3.amazonaws.com/test.txt",
        headers,
        EMPTY_SHA256,
        amz_date="20130524T000000Z",
        region="us-east-1",
    )
    assert value == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )
    parsed = parse_authorization(value)
    assert parsed is not None and parsed.region == "us-east-1" and parsed.service == "s3"


def test_s3_put_object() -> None:
    body = b"Welcome to Amazon S3."
    digest = hashlib.sha256(body).hexdigest()
    headers = {
        "Host": "examplebucket.s3.amazonaws.com",
        "Date": "Fri, 24 May 2013 00:00:00 GMT",
        "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": digest,
    }
    sig, _ = signature(
        S3_DOCS,
        "PUT",
        "https://examplebucket.s3.amazonaws.com/test$file.text",
        headers,
        digest,
        amz_date="20130524T000000Z",
        region="us-east-1",
        service="s3",
    )
    assert sig == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"


def test_credentials_repr_hides_secret() -> None:
    assert "EXAMPLEKEY" not in repr(S3_DOCS)


def test_not_sigv4_is_refused() -> None:
    assert parse_authorization("Basic abc") is None
    assert parse_authorization("AWS4-HMAC-SHA256 Credential=x") is None
