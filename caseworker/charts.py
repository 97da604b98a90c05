"""Server-side SVG bar charts for the dashboard: no script, no external resource, no inline
style (presentation attributes and classes from the self-hosted style sheet only).

Every label is escaped; each chart is an ``<svg role="img">`` with a title and a
description, and the page shows the same numbers in a table for screen readers."""

from __future__ import annotations

from markupsafe import Markup, escape

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 220
BAR_AREA = 320
VALUE_WIDTH = 60


def bar_chart(chart_id: str, title: str, data: dict[str, int]) -> Markup:
    rows = list(data.items())
    height = max(1, len(rows)) * (BAR_HEIGHT + GAP) + GAP
    width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    top = max([value for _, value in rows] + [1])
    description = "; ".join(f"{label}: {value}" for label, value in rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for index, (label, value) in enumerate(rows):
        y = GAP + index * (BAR_HEIGHT + GAP)
        bar = 0 if value <= 0 else max(2, round(BAR_AREA * value / top))
        middle = y + BAR_HEIGHT / 2
        parts.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{middle}" '
            f'text-anchor="end" dominant-baseline="middle">{escape(_clip(label))}</text>'
        )
        parts.append(
            f'<rect class="chart-bar" x="{LABEL_WIDTH}" y="{y}" width="{bar}" '
            f'height="{BAR_HEIGHT}" rx="2"></rect>'
        )
        parts.append(
            f'<text class="chart-value" x="{LABEL_WIDTH + bar + 6}" y="{middle}" '
            f'dominant-baseline="middle">{int(value)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated label is escaped above


def _clip(label: str, limit: int = 32) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
