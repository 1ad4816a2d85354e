"""Browser-layer fixtures (real Chromium, real local servers); see fixtures.py."""

from tests.browser.fixtures import (  # noqa: F401
    browser_host,
    browser_temp,
    site,
    states,
    studio,
    video_file,
)
