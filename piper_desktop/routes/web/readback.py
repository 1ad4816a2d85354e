"""Reading the filled form back before Post: what the page would post must be what the
job asks for (caption, visibility, Comment/Duet/Stitch, the switches, the schedule).

A difference refuses the post as certainly not posted and needing a person: the engine
falls back to the account's next route if it has one, else the job waits for the
operator (domain/lifecycle.py). A box the site disables (Duet and Stitch for "Only
you") is not a difference: the site decides it, and the fill step noted it.
"""

from __future__ import annotations

from datetime import datetime

from piper_desktop.routes.base import PublishError, PublishRequest
from piper_desktop.routes.web.form import Attempt, caption_norm


def _refuse(what: str, shown: object, wanted: object) -> PublishError:
    return PublishError(
        f"refusing to post: the page shows {what} {shown!r}, the job asks for {wanted!r}",
        code="readback_mismatch",
        needs_attention=True,
        certainly_not_posted=True,
    )


async def read_back(attempt: Attempt, request: PublishRequest, scheduled: datetime | None) -> None:
    """Read the form back and refuse to post what the job did not ask for."""
    options = request.options

    async def check() -> None:
        caption = await attempt.editor_text()
        if caption_norm(caption) != caption_norm(request.caption):
            raise _refuse(
                "the caption", caption_norm(caption)[:200], caption_norm(request.caption)[:200]
            )
        label = attempt.visibility_label(options)
        shown = await attempt.visibility_shown()
        if shown != label:
            raise _refuse("visibility", shown, label)
        for key, wanted, name in (
            ("comment_checkbox", not options.disable_comment, "comment"),
            ("duet_checkbox", not options.disable_duet, "duet"),
            ("stitch_checkbox", not options.disable_stitch, "stitch"),
        ):
            box = await attempt.find(key)
            on = await box.is_checked()
            if on != wanted and not (wanted and await box.is_disabled()):
                raise _refuse(name, "on" if on else "off", "on" if wanted else "off")
        for key, wanted, name in (
            ("aigc_switch", options.is_aigc, "AI-generated content"),
            (
                "disclose_switch",
                options.brand_content_toggle or options.brand_organic_toggle,
                "branded content disclosure",
            ),
        ):
            if await attempt.present(key):
                on = await attempt.switch_on(await attempt.find(key))
                if on != wanted:
                    raise _refuse(name, "on" if on else "off", "on" if wanted else "off")
        if scheduled is not None:
            wanted_at = (scheduled.strftime("%Y-%m-%d"), scheduled.strftime("%H:%M"))
            later = await (await attempt.find("schedule_later_radio")).is_checked()
            shown_at = await attempt.schedule_shown()
            if not later or shown_at != wanted_at:
                raise _refuse(
                    "the schedule", " ".join(shown_at) if later else "now", " ".join(wanted_at)
                )
        elif (
            await attempt.present("schedule_later_radio")
            and await attempt.loc("schedule_later_radio").filter(visible=True).first.is_checked()
        ):
            raise _refuse("the schedule", "scheduled", "post now")

    await attempt.step("read back the form", attempt.t.step, check)
