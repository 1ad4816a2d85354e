"""The Display API's parsers (clients/tiktok_display.py) on generated JSON: never an
exception, and what they keep always has the promised shape — an id, an aware UTC
create time, counts that are ints ≥ 0."""

from __future__ import annotations

from datetime import UTC

from hypothesis import example, given
from hypothesis import strategies as st

from piper_desktop.clients.tiktok_display import (
    Video,
    parse_page,
    parse_user,
    parse_video,
    parse_videos,
)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=12,
)
FIELD = st.sampled_from(
    ["id", "create_time", "share_url", "video_description", "title", "duration",
     "view_count", "like_count", "comment_count", "share_count", "x"]
)  # fmt: skip
VALUE = (
    JSON
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(alphabet="0123456789 ", max_size=25)
)
VIDEO = st.dictionaries(FIELD, VALUE, max_size=11)
PAGE = st.fixed_dictionaries(
    {}, optional={"videos": st.lists(VIDEO | JSON, max_size=5), "cursor": VALUE, "has_more": JSON}
)
USER = st.fixed_dictionaries(
    {},
    optional={
        "user": st.dictionaries(
            st.sampled_from(["open_id", "follower_count", "likes_count", "video_count"]), VALUE
        )
        | JSON
    },
)


def _video_ok(video: Video | None) -> None:
    assert video is not None
    assert isinstance(video.id, str) and 0 < len(video.id) <= 100
    assert video.create_time.tzinfo is UTC
    for name in ("views", "likes", "comments", "shares"):
        value = getattr(video, name)
        assert isinstance(value, int) and not isinstance(value, bool) and value >= 0
    assert isinstance(video.caption, str)


@given(VIDEO | JSON)
@example({"id": "7077642457847991554", "create_time": 1643332803, "view_count": 12})
@example({"id": True, "create_time": 1})
@example({"id": "1", "create_time": 10**20})
@example({"id": "1", "create_time": float("nan")})
def test_a_video_object_is_kept_whole_or_left_out(raw: object) -> None:
    video = parse_video(raw)
    if video is not None:
        _video_ok(video)


@given(PAGE | JSON)
@example({"videos": [], "cursor": 1643332803000, "has_more": True})
@example({"videos": [{"id": "1", "create_time": 1}], "cursor": True, "has_more": True})
def test_a_page_never_promises_more_without_a_cursor(data: object) -> None:
    page = parse_page(data)
    for video in page.videos:
        _video_ok(video)
    assert page.cursor is None or (isinstance(page.cursor, int) and page.cursor > 0)
    assert not page.has_more or page.cursor is not None
    assert len(parse_videos(data)) == len(page.videos)


@given(USER | JSON)
@example({"user": {"follower_count": "12", "likes_count": -4, "video_count": 2.5}})
def test_user_stats_are_counts(data: object) -> None:
    stats = parse_user(data)
    for value in (stats.followers, stats.likes, stats.videos):
        assert isinstance(value, int) and not isinstance(value, bool) and value >= 0
    assert isinstance(stats.open_id, str)
