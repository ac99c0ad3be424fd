"""Small inline SVG charts (bar and line) for the HTML report: no scripts, no network."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
FONT = "font-family='system-ui, sans-serif' font-size='12'"
CHAR_PX = 7.0
MAX_LABEL_CHARS = 48


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (which always includes 0 here)."""
    if high == low:
        high = low + 1.0
    raw_step = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def format_number(value: float) -> str:
    """Short axis and bar labels: ``25,050.8``, ``1.25M``, ``0.5``."""
    if abs(value) >= 1e9:
        return f"{value / 1e9:.3g}G"
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3g}M"
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.2g}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='{anchor}' {FONT} {extra}>{escape(text)}</text>"
    )


def bar_chart(
    labels: Sequence[str], values: Sequence[float], *, title: str, width: int = 720
) -> str:
    """Horizontal bars, one per label; negative values extend left of the zero line."""
    if not labels:
        return ""
    labels = [_short(label) for label in labels]
    label_px = max(len(label) for label in labels) * CHAR_PX + 12
    row, top, bottom = 26, 34, 28
    height = top + row * len(labels) + bottom
    plot_left, plot_right = label_px + 8, width - 70
    ticks = nice_ticks(min(0.0, *values), max(0.0, *values))
    low, high = ticks[0], ticks[-1]

    def x_of(v: float) -> float:
        return plot_left + (v - low) / (high - low) * (plot_right - plot_left)

    parts = [_svg_open(width, height, title), _text(8, 20, title, extra="font-weight='600'")]
    for tick in ticks:
        x = x_of(tick)
        parts.append(
            f"<line x1='{x:.1f}' y1='{top - 6}' x2='{x:.1f}' y2='{height - bottom}' "
            f"stroke='{'#9ca3af' if tick == 0 else '#e5e7eb'}'/>"
        )
        parts.append(_text(x, height - 10, format_number(tick), "middle", "fill='#6b7280'"))
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        x0, x1 = sorted((x_of(0.0), x_of(value)))
        color = PALETTE[1] if value < 0 else PALETTE[0]
        parts.append(_text(label_px, y + 16, label, "end"))
        parts.append(
            f"<rect x='{x0:.1f}' y='{y + 4}' width='{max(x1 - x0, 1):.1f}' height='{row - 8}' "
            f"fill='{color}' rx='2'><title>{escape(label)}: {format_number(value)}</title></rect>"
        )
        parts.append(_text(x1 + 4, y + 16, format_number(value), extra="fill='#374151'"))
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    y_label: str,
    width: int = 720,
    height: int = 300,
) -> str:
    """One line per series over evenly spaced x positions; None values leave a gap."""
    points = [v for values in series.values() for v in values if v is not None]
    if not x_labels or not points:
        return ""
    left, right, top, bottom = 64, width - 150, 34, 40
    ticks = nice_ticks(min(0.0, *points), max(0.0, *points))
    low, high = ticks[0], ticks[-1]
    step = (right - left) / max(len(x_labels) - 1, 1)

    def y_of(v: float) -> float:
        return height - bottom - (v - low) / (high - low) * (height - top - bottom)

    parts = [_svg_open(width, height, title), _text(8, 20, title, extra="font-weight='600'")]
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f"<line x1='{left}' y1='{y:.1f}' x2='{right}' y2='{y:.1f}' "
            f"stroke='{'#9ca3af' if tick == 0 else '#e5e7eb'}'/>"
        )
        parts.append(_text(left - 6, y + 4, format_number(tick), "end", "fill='#6b7280'"))
    for i, label in enumerate(x_labels):
        parts.append(_text(left + i * step, height - bottom + 18, label, "middle"))
    parts.append(
        _text(
            14,
            (top + height - bottom) / 2,
            y_label,
            "middle",
            f"transform='rotate(-90 14 {(top + height - bottom) / 2:.1f})' fill='#6b7280'",
        )
    )
    for n, (name, values) in enumerate(series.items()):
        color = PALETTE[n % len(PALETTE)]
        coords = [(left + i * step, y_of(v)) for i, v in enumerate(values) if v is not None]
        path = " ".join(
            f"{'M' if j == 0 else 'L'}{x:.1f},{y:.1f}" for j, (x, y) in enumerate(coords)
        )
        parts.append(f"<path d='{path}' fill='none' stroke='{color}' stroke-width='2'/>")
        parts.extend(
            f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3.5' fill='{color}'/>" for x, y in coords
        )
        legend_y = top + 8 + n * 18
        parts.append(
            f"<rect x='{right + 16}' y='{legend_y - 9}' width='12' height='12' fill='{color}'/>"
        )
        parts.append(_text(right + 34, legend_y + 1, name))
    parts.append("</svg>")
    return "".join(parts)


def _svg_open(width: int, height: int, title: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{escape(title, quote=True)}'>"
    )
