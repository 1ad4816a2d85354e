"""PUT objects into an S3-compatible bucket (AWS S3, MinIO, R2, ...), so that TikTok can
pull a photo post's images from a URL prefix the operator has verified with TikTok.

The target is `s3://bucket/prefix` plus an endpoint URL, region and access key id; the
secret key comes from the vault and is registered with the log mask. Path-style
addressing (`endpoint/bucket/key`) works with every S3-compatible server. A 5xx or a lost
connection is retried a few times: a PUT of the same key and bytes is idempotent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import httpx

from piper_desktop.logs import register_secret

from .errors import ApiError
from .http import build_http_client
from .sigv4 import Credentials, authorization

PUT_ATTEMPTS = 3


@dataclass(frozen=True)
class S3Target:
    endpoint_url: str
    bucket: str
    prefix: str  # "" or "some/folder/" (always ends with "/" when set)
    region: str
    access_key_id: str

    @classmethod
    def parse(cls, target: str, *, endpoint_url: str, region: str, access_key_id: str) -> S3Target:
        """From `s3://bucket/prefix`; ValueError names what is wrong, in one line."""
        parts = urlsplit(target.strip())
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError("photos.upload_target must look like s3://bucket/prefix")
        endpoint = endpoint_url.strip().rstrip("/")
        if urlsplit(endpoint).scheme not in ("http", "https") or not urlsplit(endpoint).netloc:
            raise ValueError("photos.upload_endpoint must be an http(s) URL")
        if not region.strip():
            raise ValueError("photos.upload_region is empty")
        if not access_key_id.strip():
            raise ValueError("photos.upload_access_key_id is empty")
        prefix = parts.path.strip("/")
        return cls(
            endpoint_url=endpoint,
            bucket=parts.netloc,
            prefix=prefix + "/" if prefix else "",
            region=region.strip(),
            access_key_id=access_key_id.strip(),
        )

    def object_url(self, key: str) -> str:
        return f"{self.endpoint_url}/{quote(self.bucket)}/{quote(self.prefix + key)}"


def public_url(url_prefix: str, target: S3Target, key: str) -> str:
    """Where the object `key` is reachable under the operator's verified URL prefix."""
    return url_prefix.rstrip("/") + "/" + quote(target.prefix + key)


class S3Client:
    def __init__(
        self,
        target: S3Target,
        secret_access_key: str,
        *,
        http: httpx.Client | None = None,
        now: type[datetime] = datetime,
    ) -> None:
        register_secret(secret_access_key)
        self.target = target
        self._creds = Credentials(target.access_key_id, secret_access_key)
        self._http = http or build_http_client()
        self._now = now

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> S3Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` at the target's prefix + `key`; raises ApiError(platform="s3")."""
        url = self.target.object_url(key)
        digest = hashlib.sha256(data).hexdigest()
        last: ApiError | None = None
        for _ in range(PUT_ATTEMPTS):
            amz_date = self._now.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            headers = {
                "Host": urlsplit(url).netloc,
                "Content-Type": content_type,
                "x-amz-content-sha256": digest,
                "x-amz-date": amz_date,
            }
            headers["Authorization"] = authorization(
                self._creds,
                "PUT",
                url,
                headers,
                digest,
                amz_date=amz_date,
                region=self.target.region,
            )
            try:
                answer = self._http.put(url, content=data, headers=headers)
            except httpx.TransportError as exc:
                last = ApiError(
                    f"the upload target did not answer ({type(exc).__name__})", platform="s3"
                )
                continue
            if answer.status_code in (200, 201, 204):
                return
            code = _s3_code(answer.text)
            error = ApiError(
                f"the upload target refused {key}: HTTP {answer.status_code}"
                + (f" {code}" if code else ""),
                platform="s3",
                code=code,
                http_status=answer.status_code,
            )
            if answer.status_code < 500:
                raise error
            last = error
        assert last is not None
        raise last


def _s3_code(body: str) -> str | None:
    # S3 errors are XML: <Error><Code>SignatureDoesNotMatch</Code>...
    start = body.find("<Code>")
    end = body.find("</Code>")
    if start < 0 or end < start:
        return None
    return body[start + 6 : end][:60] or None
