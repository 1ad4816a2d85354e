"""The chart cards (ui/charts.py) on plain data: what each draws, its empty state, and
its exports."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest

from piper_desktop.domain.analytics_views import Comparison, Curve, HourGrid, Series
from piper_desktop.ui import charts


def lines(card: charts.ChartCard) -> list[tuple[list[float], list[float]]]:
    drawn = []
    for plot in card.plots():
        for item in plot.listDataItems():
            # the data given (getData() is what the view shows after clipping)
            drawn.append((list(item.xData), list(item.yData)))
    return drawn


def grid_with(cells: dict[tuple[int, int], tuple[int, int]]) -> HourGrid:
    posts = [[0] * 24 for _ in range(7)]
    views = [[0] * 24 for _ in range(7)]
    for (day, hour), (count, total) in cells.items():
        posts[day][hour] = count
        views[day][hour] = total
    return HourGrid(tuple(map(tuple, posts)), tuple(map(tuple, views)))


@pytest.fixture
def shown(qtbot):
    def show(card: charts.ChartCard) -> charts.ChartCard:
        qtbot.addWidget(card)
        card.resize(700, 420)
        card.show()
        qtbot.waitExposed(card)
        return card

    return show


def test_growth_chart_draws_one_line_per_account_and_says_when_empty(shown) -> None:
    card = shown(charts.GrowthChart("growth", "Growth"))
    assert card.is_empty and card.empty.isVisible() and "video.list" in card.empty.text()
    card.show_series(
        [
            ("@alice", "#ff0000", Series((1.0, 2.0, 3.0), (10, 12, 15), (100, 300, 700))),
            ("@bob", "#0000ff", Series((2.0, 4.0), (5, 6), (1, 2))),
            ("@nobody", "#00ff00", Series((), (), ())),
        ]
    )
    assert not card.is_empty and card.graphics.isVisible()
    followers, views = card.plots()
    assert [list(item.yData) for item in followers.listDataItems()] == [
        [10, 12, 15],
        [5, 6],
    ]
    assert [list(item.yData) for item in views.listDataItems()] == [[100, 300, 700], [1, 2]]
    assert card.header == ["account", "at", "followers", "views"]
    assert len(card.rows) == 5 and card.rows[0][0] == "@alice"
    card.show_series([])
    assert card.is_empty and lines(card) == [] and card.rows == []
    # drawn again into the same plots, no line left from before
    card.show_series([("@bob", "#0000ff", Series((2.0, 4.0), (7, 8), (1, 2)))])
    assert lines(card) == [([2.0, 4.0], [7, 8]), ([2.0, 4.0], [1, 2])]
    assert len(card.plots()[0].legend.items) == 1


def test_curve_chart_draws_views_and_likes_over_48_hours(shown) -> None:
    card = shown(charts.CurveChart("curve", "Curve"))
    card.show_curve("", None)
    assert card.is_empty and "Pick a post" in card.empty.text()
    card.show_curve("@alice", Curve((0.5, 2.0, 47.0), (20, 100, 500), (1, 10, 50)))
    assert lines(card) == [([0.5, 2.0, 47.0], [20, 100, 500]), ([0.5, 2.0, 47.0], [1, 10, 50])]
    card.show_curve("@alice", Curve((), (), ()))
    assert card.is_empty and "first 48 hours" in card.empty.text()


def test_heatmap_shows_mean_views_by_weekday_and_hour(shown) -> None:
    card = shown(charts.HeatmapChart("hours", "Hours"))
    card.show_grid(grid_with({}), [])
    assert card.is_empty and card.image is None
    card.show_grid(grid_with({(1, 20): (2, 600), (0, 9): (4, 400)}), ["Tue 20:00"])
    assert not card.is_empty and card.image is not None
    image = np.asarray(card.image.image)
    assert image.shape == (24, 7)  # hours across, weekdays down
    # log-shaded; slots without posts are NaN (transparent), not zero
    assert image[20, 1] == pytest.approx(np.log1p(300.0))
    assert image[9, 0] == pytest.approx(np.log1p(100.0))
    assert np.count_nonzero(~np.isnan(image)) == 2
    assert card.caption.text() == "Best hours: Tue 20:00"
    assert card.rows == [["Mon", 9, 4, 100.0], ["Tue", 20, 2, 300.0]]


def test_bar_chart_compares_mean_views_and_likes(shown) -> None:
    card = shown(charts.BarChart("bars", "Bars"))
    card.show_comparison([], "No campaign posts yet.")
    assert card.is_empty and card.empty.text() == "No campaign posts yet."
    card.show_comparison([Comparison("Spring", 2, 20.0, 2.0), Comparison("Fall", 1, 5.0, 1.0)])
    views, likes = card.bars
    assert list(views.opts["height"]) == [20.0, 5.0]
    assert list(likes.opts["height"]) == [2.0, 1.0]
    assert all(
        isinstance(bar, pg.BarGraphItem) for bar in card.plots()[0].items if bar in card.bars
    )
    assert card.rows == [["Spring", 2, 20.0, 2.0], ["Fall", 1, 5.0, 1.0]]


def test_exports_write_the_shown_rows_and_a_picture_owner_only(shown, tmp_path: Path) -> None:
    card = shown(charts.BarChart("bars", "Bars"))
    card.show_comparison([Comparison("=HYPERLINK(1)", 3, 12.5, 1.25)])
    written = card.export_csv(tmp_path / "bars.csv")
    with written.open(newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [
            ["label", "posts", "mean_views", "mean_likes"],
            ["'=HYPERLINK(1)", "3", "12.5", "1.25"],  # a formula stays text
        ]
    picture = card.export_png(tmp_path / "bars.png")
    assert picture.read_bytes().startswith(b"\x89PNG") and picture.stat().st_size > 1000
    for path in (written, picture):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
