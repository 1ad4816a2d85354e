"""ClientPool: one client per proxy, reused, bounded, closed only when no call uses it."""

from __future__ import annotations

import pytest

from piper_desktop.clients.pool import ClientPool


class Client:
    def __init__(self, proxy: str | None) -> None:
        self.proxy = proxy
        self.closed = False

    def close(self) -> None:
        assert not self.closed, "closed twice"
        self.closed = True


def test_one_client_per_proxy_reused() -> None:
    built: list[Client] = []
    pool = ClientPool(lambda proxy: built.append(Client(proxy)) or built[-1])
    with pool.lease("http://a:1") as first:
        pass
    with pool.lease("http://a:1") as again, pool.lease(None) as direct:
        assert again is first
        assert direct is not first and direct.proxy is None
    assert [c.proxy for c in built] == ["http://a:1", None]
    assert not any(c.closed for c in built)


def test_least_recently_used_is_closed_beyond_the_size() -> None:
    pool = ClientPool(Client, size=2)
    with pool.lease("a") as a:
        pass
    with pool.lease("b") as b:
        pass
    with pool.lease("a"):
        pass
    with pool.lease("c") as c:
        pass
    assert (a.closed, b.closed, c.closed) == (False, True, False)
    assert len(pool) == 2


def test_a_client_in_use_is_closed_when_its_call_ends() -> None:
    pool = ClientPool(Client, size=1)
    with pool.lease("a") as a:
        with pool.lease("b") as b:
            assert not a.closed  # evicted while in use: still open for this call
        assert not b.closed
    assert a.closed and not b.closed
    with pool.lease("b"):
        pool.close()
        assert not b.closed
    assert b.closed


def test_after_close_each_call_gets_a_client_of_its_own() -> None:
    pool = ClientPool(Client)
    pool.close()
    with pool.lease("a") as a:
        assert not a.closed
    assert a.closed and len(pool) == 0


def test_size_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ClientPool(Client, size=0)
