"""Bar charts as PNG, made to be read on a phone.

Every chart is 1080 pixels wide (a phone screen's full width) with large type, and its
height grows with the number of bars. Bars are horizontal with the label *above* each
bar, so long labels in any language get the full width instead of squeezing the bars.
A group that is not shown (fewer than 5 people) gets no bar at all, only the words
"fewer than 5": the chart never receives its number, so no height can give it away.

Matplotlib's object API with the Agg canvas is used directly (no pyplot): no global
state, safe in threads, nothing left open.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
from matplotlib.patches import Rectangle

from bot.i18n.translator import Translator
from bot.reports.aggregate import Cell, Table

WIDTH = 1080
DPI = 100
PT = 72 / DPI  # font sizes are in points; layout is in pixels

MARGIN = 40
TITLE_PX = 46
TEXT_PX = 36
SMALL_PX = 30
LINE = 46  # one line of label text
BAR = 52
GAP = 30
HEADER = 2 * 58 + 56 + 30  # two title lines, a subtitle or legend line, padding
FOOTER = 80
LABEL_WIDTH = 42  # characters on one label line
TITLE_WIDTH = 34

COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7")  # Okabe–Ito: colour-blind safe
MUTED = "#5f5f5f"
INK = "#1a1a1a"


@dataclass(frozen=True)
class Bar:
    """One bar: its value (None: not shown) and the text written at its end."""

    value: float | None
    text: str


def chart_height(bars: int, series: int = 1) -> int:
    """The height in pixels of a chart of `bars` items with `series` bars each."""
    return HEADER + max(bars, 1) * slot(series) + FOOTER


def slot(series: int = 1) -> int:
    return 2 * LINE + series * BAR + GAP


@cache
def _font_characters() -> frozenset[int]:
    """The characters the charts' font can draw (DejaVu Sans has no emoji)."""
    return frozenset(FT2Font(findfont(FontProperties())).get_charmap())


def drawable(text: str) -> str:
    """`text` without the characters the font would draw as empty boxes ("😞 Bad" ->
    "Bad"); an option that is only such characters keeps them, rather than no label."""
    known = _font_characters()
    kept = " ".join("".join(c for c in text if ord(c) in known or c.isspace()).split())
    return kept or text


def _wrap(text: str, width: int, lines: int = 2) -> str:
    wrapped = textwrap.wrap(drawable(text), width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1].rstrip() + "…"
    return "\n".join(wrapped)


def bars_of(cells: Sequence[Cell], t: Translator) -> list[Bar]:
    return [Bar(c.value if c.shown else None, c.text(t)) for c in cells]


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Sequence[Bar]],
    t: Translator,
    *,
    names: Sequence[str] = (),
    subtitle: str = "",
    scale_max: float | None = None,
    fmt: str = "png",
) -> bytes:
    """A horizontal bar chart as PNG bytes (or SVG, `fmt="svg"`, for the dashboard).

    `series[k][i]` is bar k of item i (one series for a plain chart, two for a
    comparison, with their `names` in a legend). `scale_max` fixes the end of the scale
    (5 for scores); by default it is the largest shown value.
    """
    count = len(labels)
    height = chart_height(count, len(series))
    fig = Figure(figsize=(WIDTH / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, WIDTH)
    ax.set_ylim(height, 0)  # y grows downwards, in pixels
    ax.axis("off")

    ax.text(
        MARGIN,
        30,
        _wrap(title, TITLE_WIDTH),
        fontsize=TITLE_PX * PT,
        fontweight="bold",
        color=INK,
        va="top",
        linespacing=1.15,
    )
    legend_y = 2 * 58 + 50
    if names:
        x = MARGIN
        for k, name in enumerate(names):
            ax.add_patch(Rectangle((x, legend_y - 14), 28, 28, color=COLOURS[k % len(COLOURS)]))
            ax.text(x + 40, legend_y, name, fontsize=SMALL_PX * PT, color=INK, va="center")
            x += 60 + int(len(name) * SMALL_PX * 0.6)
    elif subtitle:
        ax.text(MARGIN, legend_y, subtitle, fontsize=SMALL_PX * PT, color=MUTED, va="center")

    shown = [b.value for bars in series for b in bars if b.value is not None]
    top = scale_max or max(shown, default=0) or 1
    # Room for the text after the longest bar ("197 (28%)"): about 0.62 em a character.
    longest = max((len(b.text) for bars in series for b in bars if b.value is not None), default=3)
    full = WIDTH - 2 * MARGIN - max(150, int(longest * TEXT_PX * 0.62) + 24)
    y = HEADER
    for i, label in enumerate(labels):
        ax.text(
            MARGIN,
            y + 2 * LINE - 8,
            _wrap(label, LABEL_WIDTH),
            fontsize=TEXT_PX * PT,
            color=INK,
            va="bottom",
            linespacing=1.1,
        )
        bar_y = y + 2 * LINE
        for k, bars in enumerate(series):
            bar = bars[i]
            middle = bar_y + BAR / 2
            if bar.value is None:
                ax.text(
                    MARGIN,
                    middle,
                    bar.text,
                    fontsize=SMALL_PX * PT,
                    color=MUTED,
                    style="italic",
                    va="center",
                )
            else:
                length = full * bar.value / top if top else 0
                ax.add_patch(
                    Rectangle(
                        (MARGIN, bar_y + 4),
                        max(length, 3),
                        BAR - 8,
                        color=COLOURS[k % len(COLOURS)],
                    )
                )
                ax.text(
                    MARGIN + max(length, 3) + 14,
                    middle,
                    bar.text,
                    fontsize=TEXT_PX * PT,
                    fontweight="bold",
                    color=INK,
                    va="center",
                )
            bar_y += BAR
        y += slot(len(series))
    ax.text(
        MARGIN,
        height - FOOTER / 2,
        t.gettext("Groups of fewer than 5 people are not shown."),
        fontsize=SMALL_PX * PT,
        color=MUTED,
        va="center",
    )
    buffer = io.BytesIO()
    if fmt == "svg":
        # Text stays text (readable, searchable, small); no date, so equal charts are equal.
        with rc_context({"svg.fonttype": "none", "svg.hashsalt": "buurtbot"}):
            fig.savefig(buffer, format="svg", dpi=DPI, metadata={"Date": None})
    else:
        fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def table_chart(
    table: Table, group: str, t: Translator, *, subtitle: str = "", fmt: str = "png"
) -> bytes:
    """One column of a table (one neighbourhood, or the total) as a chart; each bar has
    its share of the table's base beside its count, where both are shown."""
    j = table.column(group)
    labels = [line.label for line in table.lines]
    if table.kind == "scores":
        bars = [
            Bar(
                line.means[j] if line.means else None,
                f"{line.means[j]:.1f}"
                if line.means and line.means[j] is not None
                else line.cells[j].text(t),
            )
            for line in table.lines
        ]
        return bar_chart(
            table.title,
            labels,
            [bars],
            t,
            subtitle=subtitle,
            scale_max=table.scale_max or 5,
            fmt=fmt,
        )
    bars = []
    for line in table.lines:
        cell = line.cells[j]
        share = table.percent(line, j)
        text = cell.text(t) if share is None else f"{cell.text(t)} ({share}%)"
        bars.append(Bar(cell.value if cell.shown else None, text))
    return bar_chart(table.title, labels, [bars], t, subtitle=subtitle, fmt=fmt)


def comparison_chart(table: Table, t: Translator, *, subtitle: str = "", fmt: str = "png") -> bytes:
    """A comparison table (lines by two periods) as pairs of bars."""
    labels = [line.label for line in table.lines]
    series = [bars_of([line.cells[k] for line in table.lines], t) for k in range(2)]
    names = [g.label for g in table.groups]
    return bar_chart(table.title, labels, series, t, names=names, subtitle=subtitle, fmt=fmt)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's header; raises ValueError if it is not a PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
