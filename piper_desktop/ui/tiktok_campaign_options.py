"""The campaign wizard's TikTok post options (route tiktok_api, compliance mode on): the
same screen as one post (ui/tiktok_post_options.py), chosen once for every account of
the campaign. creator_info is asked for each account when the page shows; the privacy
levels are the ones every account offers (domain/tiktok_compliance.combine), an
interaction is greyed out when any account turned it off, each video is checked
against every account's duration limit, and accounts TikTok refuses are flagged and
stop the campaign until they are left out."""

from __future__ import annotations

from functools import partial
from typing import Any

from PySide6.QtWidgets import QWidget

from ..domain import tiktok_compliance as tc
from . import formatting as fmt
from .context import AppContext
from .tasks import run_task
from .tiktok_post_options import TikTokPostOptions, escape_html, refusal


def _fetch_all(ctx: AppContext, account_ids: list[int]) -> list[tuple[str, Any, str | None]]:
    """(username, creator view or None, why not) per account, in the given order."""
    from ..routes.tiktok_api.creator import fetch_creator

    found: list[tuple[str, Any, str | None]] = []
    for account_id in account_ids:
        username = ctx.services.accounts.get(account_id).username
        try:
            found.append((username, fetch_creator(ctx.services, account_id), None))
        except Exception as exc:  # each account's refusal is shown, not raised
            found.append((username, None, refusal(exc)))
    return found


class TikTokCampaignOptions(TikTokPostOptions):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        # set before the base lays out (its first _update asks duration_problems)
        self.account_ids: list[int] = []
        self.media_rows: list[dict[str, Any]] = []
        self.creators: list[tuple[str, Any]] = []  # (username, CreatorInfo) that answered
        self.refused: list[str] = []
        self._asked_ids: list[int] | None = None
        super().__init__(ctx, parent=parent)
        self.setObjectName("tiktok_campaign_options")
        # one choice for many videos: no single preview here; the review lists them
        self.frame.hide()

    def set_campaign(self, account_ids: list[int], media: list[dict[str, Any]]) -> None:
        self.media_rows = media
        self.media_title.setText(f"{len(media)} video(s) of the campaign")
        if account_ids != self._asked_ids:
            self.account_ids = account_ids
            self.refresh()
        else:
            self._update()

    def showEvent(self, event: Any) -> None:
        QWidget.showEvent(self, event)  # the wizard asks through set_campaign

    def refresh(self) -> None:
        self._asked_ids = list(self.account_ids)
        self.creator = None
        self.stopped = None
        self.loading = True
        self.nickname.setText("Asking TikTok about each account…")
        self._update()
        run_task(
            partial(_fetch_all, self.ctx, list(self.account_ids)),
            partial(self._all_arrived, list(self.account_ids)),
            partial(self._all_failed, list(self.account_ids)),
            owner=self,
        )

    def _all_arrived(self, asked: list[int], found: list[tuple[str, Any, str | None]]) -> None:
        if asked != self.account_ids:
            return
        self.loading = False
        self.creators = [(name, view.creator) for name, view, _why in found if view is not None]
        self.refused = [f"@{name} {why}" for name, view, why in found if view is None]
        creators = [creator for _name, creator in self.creators]
        self.stopped = (
            "Leave these accounts out of the campaign, or try later: " + " ".join(self.refused)
            if self.refused
            else None
        )
        if not creators:
            self.creator = None
            self.nickname.setText("TikTok did not answer for any chosen account.")
            self._update()
            return
        names = ", ".join(
            f"<b>{escape_html(c.nickname or c.username)}</b> (@{escape_html(c.username)})"
            for c in creators
        )
        # one account's picture only when the campaign posts as one account
        avatar = found[0][1].avatar if len(found) == 1 and found[0][1] is not None else None
        self.avatar.setVisible(avatar is not None)
        self.show_creator(tc.combine(creators), avatar, f"Posting to TikTok as {names}")

    def _all_failed(self, asked: list[int], exc: BaseException) -> None:
        if asked != self.account_ids:
            return
        self.loading = False
        self.creator = None
        self.stopped = f"The accounts {refusal(exc)}"
        self._update()

    def duration_problems(self) -> list[str]:
        return tc.campaign_duration_problems(
            [creator for _name, creator in self.creators],
            [(str(m.get("title") or m.get("path")), m.get("duration_sec")) for m in self.media_rows],
        )

    def duration_text(self) -> str:
        limit = getattr(self.creator, "max_video_post_duration_sec", None)
        if not limit or self.photo:
            return ""
        return f"Videos up to {fmt.duration(limit)} (the shortest limit of these accounts)"

    def review_lines(self) -> list[str]:
        """What goes out for each account (the review page)."""
        choice = self.choice()
        lines = [
            f"@{name}: {tc.summary(choice, creator, photo=self.photo)}"
            for name, creator in self.creators
        ]
        return lines + [f"Flagged: {line}" for line in self.refused]
