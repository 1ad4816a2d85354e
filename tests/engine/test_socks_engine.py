"""A job whose account's SOCKS5 proxy (with a password) is down: the readiness check sees
it through httpx's SOCKS support and warns; at the slot the publisher cannot reach the
proxy either, so the job retries with the proxy named; nothing is sent, and no "outcome
unknown". (The publisher's own mapping of a dead proxy, retryable and
certainly not posted, is tests/routes/test_socks_proxy.py.)"""

from __future__ import annotations

import gc
import warnings
from pathlib import Path

from piper_desktop.domain.services import Services
from piper_desktop.engine import ManualClock
from piper_desktop.sandbox.socks import LocalSocksProxy
from piper_desktop.sandbox.upload_post import UploadPostSandbox
from tests.engine.helpers import add_account, add_media, make_engine, use_upload_post


def test_dead_socks_proxy_retries_the_job_before_anything_is_sent(
    services: Services, clock: ManualClock, upload_post: UploadPostSandbox, tmp_path: Path
) -> None:
    use_upload_post(services, upload_post)
    socks = LocalSocksProxy(users={"acct": "pw s0cks"})
    port = int(socks.base_url.rsplit(":", 1)[1])
    proxy = services.proxies.add(
        {
            "scheme": "socks5",
            "host": "127.0.0.1",
            "port": port,
            "username": "acct",
            "password": "pw s0cks",
        }
    )
    account = add_account(services, "behind_socks", proxy_id=proxy.id)
    job = services.jobs.add(
        account_id=account.id,
        media_id=add_media(services, tmp_path, "s.mp4").id,
        route="upload_post",
        at=clock.now(),
        caption="through socks",
        now=clock.now(),
    )
    engine = make_engine(services, clock)
    socks.httpd.server_close()  # bound, never served: connections to it are refused
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        engine.run_once()
        gc.collect()
    held = services.jobs.get(job.id)
    assert held.status == "retrying" and held.receipt is None
    assert f"proxy socks5://acct@127.0.0.1:{port} does not answer" in (held.last_error or "")
    assert "pw s0cks" not in (held.last_error or "")
    assert upload_post.requests == []
    assert services.proxies.get(proxy.id).status == "error"
