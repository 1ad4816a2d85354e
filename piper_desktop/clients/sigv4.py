"""AWS Signature Version 4 (header form), for S3-compatible buckets.

Written here rather than taken from botocore: the only maintained signers either pull in
boto or sign `requests` objects, and Piper speaks httpx. It is small, pure, and checked
against AWS's published examples (tests/clients/test_sigv4.py). The sandbox's S3 stand-in
verifies with the same functions, so the two sides cannot agree on a private mistake
without the published vectors failing too.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str

    def __repr__(self) -> str:  # never a secret in a log line or traceback
        return f"Credentials(access_key_id={self.access_key_id!r}, secret_access_key=***)"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _uri_encode_path(path: str, service: str) -> str:
    # S3 encodes each segment once; other services normalise and encode twice.
    path = path or "/"
    encoded = quote(path, safe="/~")
    return encoded if service == "s3" else quote(encoded, safe="/~")


def _canonical_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    encoded = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def _canonical_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    folded: dict[str, str] = {}
    for name, value in headers.items():
        folded[name.strip().lower()] = " ".join(value.strip().split())
    names = sorted(folded)
    return "".join(f"{n}:{folded[n]}\n" for n in names), ";".join(names)


def canonical_request(
    method: str, url: str, headers: Mapping[str, str], payload_sha256: str, service: str
) -> tuple[str, str]:
    """(canonical request, signed header names) for a request whose headers are final."""
    parts = urlsplit(url)
    canon_headers, signed = _canonical_headers(headers)
    text = "\n".join(
        [
            method.upper(),
            _uri_encode_path(parts.path, service),
            _canonical_query(parts.query),
            canon_headers,
            signed,
            payload_sha256,
        ]
    )
    return text, signed


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = _hmac(("AWS4" + secret).encode(), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def signature(
    creds: Credentials,
    method: str,
    url: str,
    headers: Mapping[str, str],
    payload_sha256: str,
    *,
    amz_date: str,
    region: str,
    service: str,
) -> tuple[str, str]:
    """(hex signature, signed header names). `headers` must include host and x-amz-date."""
    canon, signed = canonical_request(method, url, headers, payload_sha256, service)
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canon.encode()).hexdigest()])
    key = signing_key(creds.secret_access_key, amz_date[:8], region, service)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signed


def authorization(
    creds: Credentials,
    method: str,
    url: str,
    headers: Mapping[str, str],
    payload_sha256: str,
    *,
    amz_date: str,
    region: str,
    service: str = "s3",
) -> str:
    """The Authorization header's value for the request."""
    sig, signed = signature(
        creds,
        method,
        url,
        headers,
        payload_sha256,
        amz_date=amz_date,
        region=region,
        service=service,
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    return (
        f"{ALGORITHM} Credential={creds.access_key_id}/{scope}, "
        f"SignedHeaders={signed}, Signature={sig}"
    )


@dataclass(frozen=True)
class ParsedAuthorization:
    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> ParsedAuthorization | None:
    """The parts of an Authorization header, or None when it is not SigV4."""
    if not value.startswith(ALGORITHM + " "):
        return None
    fields: dict[str, str] = {}
    for part in value[len(ALGORITHM) + 1 :].split(","):
        name, _, val = part.strip().partition("=")
        fields[name] = val
    try:
        key_id, date, region, service, term = fields["Credential"].split("/")
        signed = tuple(fields["SignedHeaders"].split(";"))
        sig = fields["Signature"]
    except (KeyError, ValueError):
        return None
    if term != "aws4_request" or not sig:
        return None
    return ParsedAuthorization(key_id, date, region, service, signed, sig)
