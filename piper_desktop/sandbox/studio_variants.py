"""The TikTok Studio replica's layout variants: names, what each changes, how a spec parses.

A variant is a set of features; a spec names one or more, joined by `+` or `,`
("file_button+plain_editor"). Each feature rewrites one part of the page the way an
independently written replica of the same public page would (different markup, same
behaviour and the same server-side record of every post), or adds something that
interrupts the form. `all_different` is the issue's list (issue 15, item 6) at once: the
page an independent engineer wrote, as a person can still post through it (not the
unknown modal); `toggle_switches`, `schedule_picker`, `visibility_select` and `slow` go
beyond that list and combine with it by name. The server takes the spec from its constructor, `configure(variant=...)`,
`POST /__sandbox__/variant {"variant": ...}`, or the environment (`VARIANT_ENV`).
"""

from __future__ import annotations

from collections.abc import Iterable

VARIANT_ENV = "PIPER_SANDBOX_STUDIO_VARIANT"
DEFAULT = "default"

# feature -> what a person (or a selector) meets on the page
FEATURES: dict[str, str] = {
    "file_button": (
        "no [data-e2e] card: a drop area with a 'Select video' button; the file input is "
        "hidden at the end of <body>, outside the card, and opened by the button (a file "
        "chooser); the upload status is a role=status block with a <progress>"
    ),
    "suggestions_class": (
        "hashtag/mention suggestions in a <ul> at the end of <body> (no role=listbox, no "
        "role=option, no aria-selected): the highlighted <li> has class 'is-active'; "
        "mention rows show the nickname before '@name'"
    ),
    "plain_editor": (
        "the caption is a plain contenteditable <div class='caption-input'> labelled by a "
        "visible 'Caption' heading (aria-labelledby): no Draft.js classes, no role"
    ),
    "visibility_listbox": (
        "'Who can watch this video' is a button (aria-haspopup=listbox) showing the value; "
        "its <ul role=listbox> of <li role=option> opens at the end of <body>, outside "
        "the visibility container"
    ),
    "visibility_select": (
        "'Who can watch this video' is a native <select> (options Everyone, Friends, Only you)"
    ),
    "toggle_switches": (
        "Comment, Duet and Stitch are role=switch buttons (aria-checked, aria-label; natively "
        "disabled for 'Only you') instead of labelled checkboxes"
    ),
    "schedule_picker": (
        "the schedule is a native <input type=date> labelled 'Date' and a <select> labelled "
        "'Time' of 5-minute steps, instead of the calendar and time-list popups"
    ),
    "post_text_only": (
        "the Post button has no data-e2e, test id or meaningful class (generated css-* "
        "classes, the text in nested <div>s) and is disabled with the native 'disabled' "
        "attribute until the upload finishes; the header has a 'Posts' link"
    ),
    "iframe": (
        "/tiktokstudio/upload redirects (302) to /creator-center/upload, a Creator Center "
        "shell whose <iframe src='/creator#/upload?scene=creator_center'> holds the form; "
        "after posting the top page goes to /tiktokstudio/content"
    ),
    "unknown_modal": (
        "when the upload finishes, a survey dialog ('Help us improve TikTok Studio', "
        "buttons 'Take survey' and 'Close') covers the form and makes it inert until "
        "dismissed: a publisher that does not know it must fail clearly"
    ),
    "known_interrupters": (
        "the kinds of overlay a site file declares: the cookie banner at load; a product "
        "tour over the form when it appears ('Skip' / 'Next' then 'Got it'); a feature "
        "dialog when the upload finishes ('Got it'); a content-check prompt after the "
        "caption is first focused ('Not now' / 'Turn on'); a leave-page (beforeunload) "
        "prompt while a file is on the form"
    ),
    "post_now_confirm": (
        "clicking Post opens role=alertdialog 'Continue to post?' with 'Cancel' and 'Post now'"
    ),
    "split_prompt": (
        "when the upload finishes, a dialog 'Split your video into parts?' with 'Not now' "
        "and 'Split' (choosing Split is recorded on the post as split=True)"
    ),
    "slow": (
        "other timings: the form renders 0.8 s after load, the upload is read at 2 MB/s and "
        "processed for 2.5 s, suggestions appear 1.2 s after typing"
    ),
    "v2": "the original replica with renamed data-e2e attributes and editor class",
}

# The variants a person can post through, at once: the independently written replica.
ALL_DIFFERENT = (
    "file_button",
    "suggestions_class",
    "plain_editor",
    "visibility_listbox",
    "post_text_only",
    "iframe",
    "known_interrupters",
    "post_now_confirm",
    "split_prompt",
)
COMBINED: dict[str, tuple[str, ...]] = {
    DEFAULT: (),
    "v1": (),
    "all_different": ALL_DIFFERENT,
}
# What a sweep (tests, bench) walks: each feature alone, then all at once.
SWEEP: tuple[str, ...] = (
    DEFAULT,
    *(name for name in FEATURES if name != "v2"),
    "all_different",
)

# Options of the server the slow feature changes (see StudioOptions).
SLOW_OPTIONS = {"processing_seconds": 2.5, "upload_rate": 2 * 1024 * 1024}
SLOW_PAGE = {"render_delay_ms": 800, "suggest_delay_ms": 1200}


class VariantError(ValueError):
    pass


def parse_variant(spec: str | Iterable[str] | None) -> frozenset[str]:
    """The features a spec names; raises VariantError naming the first unknown name."""
    if spec is None:
        return frozenset()
    parts = spec.replace(",", "+").split("+") if isinstance(spec, str) else list(spec)
    features: set[str] = set()
    for raw in parts:
        name = raw.strip().lower().replace("-", "_")
        if not name:
            continue
        if name in COMBINED:
            features.update(COMBINED[name])
        elif name in FEATURES:
            features.add(name)
        else:
            raise VariantError(
                f"unknown studio variant {raw.strip()!r}; known: {', '.join(known_names())}"
            )
    if {"visibility_listbox", "visibility_select"} <= features:
        raise VariantError(
            "studio variants visibility_listbox and visibility_select exclude each other"
        )
    return frozenset(features)


def known_names() -> list[str]:
    return [*COMBINED, *FEATURES]


def describe() -> list[tuple[str, str]]:
    """(name, what it changes) for every name a spec may use, for `piper sandbox`."""
    rows = [
        (DEFAULT, "the replica as DESIGN.md describes it"),
        ("all_different", "+".join(ALL_DIFFERENT)),
    ]
    return rows + list(FEATURES.items())
