"""What each platform takes as a video, checked against a file's probed facts before
anything is uploaded, so that no attempt is spent on a refusal such as TikTok's
`file_format_check_failed`, `frame_rate_check_failed` or `picture_size_check_failed`.

Limits, from the platforms' public documentation:
- TikTok Content Posting API (Media Transfer Guide, "Video restrictions"): MP4, WebM or
  MOV; H.264, H.265, VP8 or VP9; 23 to 60 fps; 360 to 4096 pixels for both sides; at
  most 4 GB; at most 10 minutes through the API, and no longer than the creator's
  `max_video_post_duration_sec` (creator_info; the route passes it in).
- Upload-Post posts to TikTok through that same API: the same limits, without a
  creator_info to narrow the duration.
- TikTok Studio's web upload page: MP4, MOV or WebM, up to 10 GB and 60 minutes; its
  size and frame rate advice is a recommendation the page does not enforce.
"""

from __future__ import annotations

from dataclasses import dataclass

from .mediafile import MediaFacts

GB = 1024**3


@dataclass(frozen=True)
class MediaLimits:
    platform: str  # for the message: "TikTok", "TikTok Studio"
    containers: frozenset[str]
    video_codecs: frozenset[str] | None = None  # None: any
    min_fps: float | None = None
    max_fps: float | None = None
    min_side: int | None = None
    max_side: int | None = None
    max_size: int | None = None
    max_duration_sec: float | None = None

    def problem(self, facts: MediaFacts, max_duration_sec: float | None = None) -> str | None:
        """Why `facts` does not fit, in the operator's words, or None. `max_duration_sec`
        narrows the platform's own limit (the creator's, from creator_info)."""
        where = self.platform
        if facts.container not in self.containers:
            allowed = ", ".join(sorted(self.containers))
            return f"{where} does not take {facts.container} files (it takes {allowed})"
        if self.video_codecs is not None and facts.video_codec not in self.video_codecs:
            allowed = ", ".join(sorted(self.video_codecs))
            return (
                f"{where} does not take video encoded as {facts.video_codec} "
                f"(it takes {allowed}); re-encode it, e.g. as H.264"
            )
        if facts.fps is not None:
            if self.min_fps is not None and facts.fps < self.min_fps:
                return (
                    f"the video runs at {facts.fps:g} fps; {where} needs at least {self.min_fps:g}"
                )
            if self.max_fps is not None and facts.fps > self.max_fps:
                return (
                    f"the video runs at {facts.fps:g} fps; {where} takes at most {self.max_fps:g}"
                )
        sides = f"{facts.width}x{facts.height}"
        if self.min_side is not None and min(facts.width, facts.height) < self.min_side:
            return f"the picture is {sides}; {where} needs at least {self.min_side} pixels a side"
        if self.max_side is not None and max(facts.width, facts.height) > self.max_side:
            return f"the picture is {sides}; {where} takes at most {self.max_side} pixels a side"
        if self.max_size is not None and facts.size > self.max_size:
            return (
                f"the file is {facts.size / GB:.1f} GB; {where} takes at most "
                f"{self.max_size / GB:g} GB"
            )
        limits = [x for x in (self.max_duration_sec, max_duration_sec) if x is not None]
        if facts.duration_sec is not None and limits and facts.duration_sec > min(limits):
            return (
                f"the video lasts {facts.duration_sec:.0f} s; {where} takes at most "
                f"{min(limits):g} s here"
            )
        return None


_TIKTOK_CODECS = frozenset({"h264", "hevc", "vp8", "vp9"})

TIKTOK_API = MediaLimits(
    platform="TikTok",
    containers=frozenset({"mp4", "mov", "webm"}),
    video_codecs=_TIKTOK_CODECS,
    min_fps=23,
    max_fps=60,
    min_side=360,
    max_side=4096,
    max_size=4 * GB,
    max_duration_sec=600,
)

UPLOAD_POST = TIKTOK_API

TIKTOK_WEB = MediaLimits(
    platform="TikTok Studio",
    containers=frozenset({"mp4", "mov", "webm"}),
    max_size=10 * GB,
    max_duration_sec=3600,
)
