"""A local S3-compatible stand-in: `PUT /bucket/key` with an AWS SigV4 Authorization
header stores the object; `GET /bucket/key` (unsigned, as from a public bucket or a CDN
in front of it) serves it back. So `base_url + "/" + bucket` is the public URL prefix a
photo post's images are pulled from.

A wrong key id answers 403 InvalidAccessKeyId; a signature that does not match (wrong
secret, a header changed after signing, a body whose sha256 is not the one signed)
answers 403 SignatureDoesNotMatch, as S3 does. Variants: `faults.add(Fault(r"^/bucket/",
status=503))` for a 5xx on one PUT (the client retries); `signature_mismatch=True` makes
every signed request fail as if the secret were wrong; `serve_broken=True` serves a page
instead of each stored picture (what a misconfigured CDN does), so TikTok refuses it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from piper_desktop.clients.sigv4 import Credentials, parse_authorization, signature
from piper_desktop.sandbox.httpbase import SandboxHandler, SandboxHTTPServer, SandboxServer

SANDBOX_ACCESS_KEY_ID = "PIPERSANDBOXKEYID"
SANDBOX_SECRET_KEY = "piper-sandbox-s3-secret-key"
SANDBOX_REGION = "us-east-1"


def _error_xml(code: str, message: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error>"
    ).encode()


class S3Handler(SandboxHandler):
    server: S3HTTPServer

    def _fail(self, status: int, code: str, message: str) -> None:
        self.send_bytes(status, _error_xml(code, message), "application/xml")

    def put_object(self, match: re.Match[str]) -> None:
        srv = self.server
        body = self.read_body()
        bucket, key = match.group("bucket"), unquote(match.group("key"))
        if bucket not in srv.buckets:
            self._fail(404, "NoSuchBucket", "The specified bucket does not exist")
            return
        problem = self._check_signature(body)
        if problem:
            self._fail(403, *problem)
            return
        with srv.lock:
            srv.objects[(bucket, key)] = (
                body,
                self.headers.get("Content-Type") or "application/octet-stream",
            )
        self.send_bytes(200, b"", "application/xml", {"ETag": f'"{hashlib.md5(body).hexdigest()}"'})

    def get_object(self, match: re.Match[str]) -> None:
        key = (match.group("bucket"), unquote(match.group("key")))
        with self.server.lock:
            stored = self.server.objects.get(key)
        if stored is None:
            self._fail(404, "NoSuchKey", "The specified key does not exist.")
            return
        if self.server.serve_broken:
            self.send_bytes(200, b"<html>not the picture</html>", stored[1])
            return
        self.send_bytes(200, stored[0], stored[1])

    def _check_signature(self, body: bytes) -> tuple[str, str] | None:
        srv = self.server
        parsed = parse_authorization(self.headers.get("Authorization") or "")
        if parsed is None:
            return ("AccessDenied", "Anonymous PUT is not allowed")
        if parsed.access_key_id not in srv.keys:
            return ("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist")
        digest = self.headers.get("x-amz-content-sha256") or ""
        if digest != hashlib.sha256(body).hexdigest():
            return (
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' does not match",
            )
        headers: dict[str, str] = {}
        for name in parsed.signed_headers:
            value = self.headers.get(name)
            if value is None:
                return ("SignatureDoesNotMatch", f"signed header {name} is missing")
            headers[name] = value
        secret = srv.keys[parsed.access_key_id]
        if srv.signature_mismatch:
            secret += "-not-the-same"
        expected, _ = signature(
            Credentials(parsed.access_key_id, secret),
            self.command,
            "http://" + (self.headers.get("Host") or "") + urlsplit(self.path).path,
            headers,
            digest,
            amz_date=self.headers.get("x-amz-date") or "",
            region=parsed.region,
            service=parsed.service,
        )
        if not hmac.compare_digest(expected, parsed.signature):
            return (
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided",
            )
        return None

    routes = [
        ("PUT", r"/(?P<bucket>[a-z0-9.\-]+)/(?P<key>.+)", put_object),
        ("GET", r"/(?P<bucket>[a-z0-9.\-]+)/(?P<key>.+)", get_object),
    ]


class S3HTTPServer(SandboxHTTPServer):
    keys: dict[str, str]
    buckets: set[str]
    objects: dict[tuple[str, str], tuple[bytes, str]]
    signature_mismatch: bool
    serve_broken: bool

    def state_snapshot(self) -> Any:
        with self.lock:
            return {"objects": [f"{b}/{k}" for b, k in sorted(self.objects)]}


class S3Sandbox(SandboxServer):
    server_class = S3HTTPServer
    httpd: S3HTTPServer
    handler_class = S3Handler
    name = "s3"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        buckets: tuple[str, ...] = ("piper-photos",),
        keys: dict[str, str] | None = None,
        signature_mismatch: bool = False,
        serve_broken: bool = False,
    ) -> None:
        super().__init__(host, port)
        httpd = self.httpd
        httpd.keys = dict(keys or {SANDBOX_ACCESS_KEY_ID: SANDBOX_SECRET_KEY})
        httpd.buckets = set(buckets)
        httpd.objects = {}
        httpd.signature_mismatch = signature_mismatch
        httpd.serve_broken = serve_broken

    def public_prefix(self, bucket: str = "piper-photos") -> str:
        return f"{self.base_url}/{bucket}"

    @property
    def objects(self) -> dict[str, bytes]:
        with self.httpd.lock:
            return {f"{b}/{k}": v[0] for (b, k), v in self.httpd.objects.items()}
