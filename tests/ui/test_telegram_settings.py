"""Settings' Telegram bot box: the bot's status from the stand-in (token missing, then
connected as @name), chats added with their targets and removed, a refusal naming the
field, and when the bot last heard from Telegram."""

from __future__ import annotations

from piper_desktop.domain.telegram_chats import allowed_chats
from piper_desktop.sandbox.telegram import TelegramSandbox
from piper_desktop.ui.context import AppContext
from piper_desktop.ui.panels.settings import SettingsPanel
from tests.ui.artifacts import save_screen


def test_bot_status_and_chats(ctx: AppContext, qtbot) -> None:
    services = ctx.services
    services.accounts.add({"username": "carol", "routes": ["upload_post"]})
    services.accounts.add({"username": "dan", "group": "ClientB", "routes": ["upload_post"]})
    panel = SettingsPanel(ctx)
    qtbot.addWidget(panel)
    panel.resize(1200, 900)
    panel.show()
    box = panel.telegram_bot
    assert "token missing" in box.status.text()
    assert box.last_update.text() == "No update received yet."
    for key in ("telegram.chats", "telegram.offset", "telegram.last_update"):
        assert key not in panel.rows, "kept by the bot box or the bot, not typed in"

    with TelegramSandbox() as telegram:
        assert isinstance(telegram, TelegramSandbox)
        services.settings.set("telegram.bot_token", telegram.token)
        services.settings.set("telegram.base", telegram.base_url)
        services.settings.set("telegram.last_update", "2030-01-07T09:30:00+00:00")
        box.reload()
        assert box.status.text() == (
            "Bot: connected as @piper_sandbox_bot; no chat allowed yet, so the bot does not listen"
        )

        box.chat_id.setText("12ab")
        box.name.setText("carol")
        box.add_button.click()
        assert "chat_id" in box.error.text() and box.error.isVisible()
        assert box.chat_id.property("invalid") is True
        box.chat_id.setText("4242")
        box.name.setText("nobody")
        box.add_button.click()
        assert "nobody" in box.error.text() and box.name.property("invalid") is True

        box.name.setText("carol")
        box.add_button.click()
        box.chat_id.setText("-1001234567890")
        box.kind.setCurrentIndex(box.kind.findData("group"))
        box.name.setText("clientb")
        box.route.setCurrentIndex(box.route.findData("upload_post"))
        box.add_button.click()
        assert not box.error.isVisible()
        lines = [box.chats.item(i).text() for i in range(box.chats.count())]
        assert lines == [
            "-1001234567890  group clientb via upload_post",
            "4242  account tiktok:carol",
        ]
        assert box.status.text() == "Bot: connected as @piper_sandbox_bot"
        assert box.last_update.text() == "Last update received 2030-01-07 09:30 UTC"
        save_screen(box.parentWidget(), "settings-telegram")

        box.chats.setCurrentRow(1)
        assert box.remove_button.isEnabled()
        box.remove_button.click()
        assert set(allowed_chats(services.settings)) == {-1001234567890}
        assert box.chats.count() == 1

        services.settings.set("telegram.bot_token", "999:wrong-token")
        box.reload()
        assert box.status.text() == "Bot: Telegram refused the bot token (401 Unauthorized)"
        assert "wrong-token" not in box.status.text()
