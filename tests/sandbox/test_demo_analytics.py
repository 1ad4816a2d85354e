"""The demo (`piper --sandbox`) has posts to read back: its TikTok creator granted the
analytics scopes and made a few posts in the app."""

from __future__ import annotations

from pathlib import Path

from piper_desktop.engine import Engine
from piper_desktop.sandbox.demo import start_demo


def test_the_demo_creator_s_posts_are_collected(tmp_path: Path) -> None:
    demo = start_demo(tmp_path, names=("tiktok_api", "upload_post"))
    try:
        services = demo.services()
        engine = Engine(services, watch_system=False)
        try:
            assert engine.run_duty("analytics_collect") == 1
        finally:
            engine.factory.close()
        rows = services.analytics.posts()
        assert [r.caption for r in rows] == ["New drop", "Q&A live recap", "Behind the scenes"]
        assert {r.match for r in rows} == {"outside"}
        creator = services.accounts.find("demo_creator")
        assert services.accounts.load(creator.id, "tiktok_api")["analytics_missing_scopes"] == []
        assert services.analytics.account_readings(creator.id)[creator.id][0].videos == 3
    finally:
        demo.close()
