"""Charts: PNG, 1080 pixels wide, and a suppressed bar gives nothing away."""

from __future__ import annotations

from gettext import NullTranslations

import pytest

from bot.reports.aggregate import Group, Line, Table
from bot.reports.charts import WIDTH, Bar, bar_chart, chart_height, png_size, table_chart
from bot.reports.protection import suppress, table_sums

T = NullTranslations()


def chart_of(counts: list[int]) -> bytes:
    """The chart of one question, from raw counts through the suppression."""
    grid = [[sum(counts)], *([n] for n in counts)]
    cells = suppress(grid, table_sums(len(grid), 1, base_row=0, exclusive=True))[1:]
    lines = [Line(f"o{i}", f"Option {i}", row) for i, row in enumerate(cells)]
    table = Table("q", "What would you like to change?", [Group("*", "Total")], lines)
    return table_chart(table, "*", T)


@pytest.mark.parametrize("bars", [1, 3, 12])
def test_png_of_the_promised_size(bars: int) -> None:
    png = bar_chart(
        "A title long enough to wrap over two lines on a phone screen",
        [f"Answer number {i} with a rather long label that wraps" for i in range(bars)],
        [[Bar(10 * i, str(10 * i)) for i in range(bars)]],
        T,
    )
    assert png_size(png) == (WIDTH, chart_height(bars))
    assert WIDTH == 1080


def test_two_series_have_room_for_both() -> None:
    png = bar_chart(
        "Compared", ["a", "b"], [[Bar(1, "1")] * 2, [Bar(2, "2")] * 2], T, names=["x", "y"]
    )
    assert png_size(png) == (1080, chart_height(2, series=2))


def test_a_suppressed_bar_does_not_depend_on_its_number() -> None:
    # 1 or 4 people in the second option: the same picture, byte for byte.
    assert chart_of([40, 1, 0, 3]) == chart_of([40, 4, 0, 3])
    # ... while numbers that are shown do change it (the comparison can fail).
    assert chart_of([40, 10, 0, 20]) != chart_of([40, 12, 0, 20])


def test_not_a_png() -> None:
    with pytest.raises(ValueError):
        png_size(b"GIF89a" + bytes(30))
