"""How values read on screen: times in the operator's (or an account's) zone, sizes,
durations, relative times. Plain functions, no Qt."""

from __future__ import annotations

from datetime import UTC, datetime, time, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def local_zone() -> tzinfo:
    zone = datetime.now().astimezone().tzinfo
    return zone if zone is not None else UTC


def zone(name: str | None) -> tzinfo:
    if not name:
        return local_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def to_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def when(value: Any, tz: str | None = None, *, now: datetime | None = None) -> str:
    """ "Today 14:05", "Tomorrow 09:00", "Mon 24 Nov 14:05" in the zone (local default)."""
    moment = to_datetime(value)
    if moment is None:
        return ""
    target = zone(tz)
    local = moment.astimezone(target)
    today = (now or datetime.now(UTC)).astimezone(target).date()
    delta = (local.date() - today).days
    if delta == 0:
        day = "Today"
    elif delta == 1:
        day = "Tomorrow"
    elif delta == -1:
        day = "Yesterday"
    elif local.year == today.year:
        day = local.strftime("%a %d %b")
    else:
        day = local.strftime("%d %b %Y")
    return f"{day} {local:%H:%M}"


def full_time(value: Any, tz: str | None = None) -> str:
    moment = to_datetime(value)
    if moment is None:
        return ""
    local = moment.astimezone(zone(tz))
    return local.strftime("%Y-%m-%d %H:%M:%S %Z")


def relative(value: Any, *, now: datetime | None = None) -> str:
    moment = to_datetime(value)
    if moment is None:
        return ""
    seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    future = seconds > 0
    seconds = abs(seconds)
    if seconds < 45:
        text = "a few seconds"
    elif seconds < 90 * 60:
        text = f"{max(1, round(seconds / 60))} min"
    elif seconds < 36 * 3600:
        text = f"{round(seconds / 3600)} h"
    else:
        text = f"{round(seconds / 86400)} days"
    return f"in {text}" if future else f"{text} ago"


def clock(value: Any) -> str:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value or "")


def size(num_bytes: Any) -> str:
    if num_bytes is None:
        return ""
    value = float(num_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def duration(seconds: Any) -> str:
    if seconds is None:
        return ""
    total = round(float(seconds))
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def latency(ms: Any) -> str:
    return "" if ms is None else f"{float(ms):.0f} ms"


def tags(values: Any) -> str:
    if not values:
        return ""
    return ", ".join(str(v) for v in values)


def hashtags(values: Any) -> str:
    if not values:
        return ""
    return " ".join(f"#{str(v).lstrip('#')}" for v in values)


def count(number: int, noun: str, plural: str | None = None) -> str:
    word = noun if number == 1 else (plural or noun + "s")
    return f"{number:,} {word}"


def status_text(status: Any) -> str:
    """ "needs_login" -> "Needs login"."""
    return str(status or "").replace("_", " ").capitalize()


ROUTE_LABELS = {"tiktok_api": "TikTok API", "upload_post": "Upload-Post", "browser": "Browser"}


def route(value: Any) -> str:
    return ROUTE_LABELS.get(str(value or ""), status_text(value))


PLATFORM_LABELS = {
    "tiktok": "TikTok",
    "instagram": "Instagram",
    "youtube": "YouTube",
    "facebook": "Facebook",
    "x": "X",
    "linkedin": "LinkedIn",
    "threads": "Threads",
    "pinterest": "Pinterest",
}


def platform(value: Any) -> str:
    return PLATFORM_LABELS.get(str(value or ""), str(value or ""))
