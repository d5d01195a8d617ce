"""Tiny server-rendered SVG charts for the admin dashboard.

No JavaScript and no CDN: compliance admin often runs behind strict CSPs and offline networks, and a chart
that is plain markup renders the same in tests, screenshots and printouts. Every label is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

#: One colour per verification status; unknown statuses fall back to grey.
STATUS_COLOURS: Mapping[str, str] = {
    "pending": "#9aa5b1",
    "awaiting_user": "#b8c2cc",
    "processing": "#5fa8d3",
    "review": "#f0b429",
    "resubmission_requested": "#f7c948",
    "approved": "#3ebd93",
    "declined": "#e12d39",
    "expired": "#7b8794",
    "cancelled": "#52606d",
    "error": "#8e1538",
}
#: One colour per review reason (the upcoming-reviews chart).
REVIEW_COLOURS: Mapping[str, str] = {
    "periodic": "#5fa8d3",
    "document_expiry": "#f0b429",
    "risk_change": "#e12d39",
    "screening_hit": "#8e1538",
}


#: The widest a column may be: with one day (or a few) of data the plot would otherwise be one solid block.
MAX_BAR_WIDTH = 40
#: A value above zero is drawn at least this many pixels long or tall, never as an invisible hairline.
MIN_BAR = 2


def nice_ceiling(value: float) -> int:
    """The axis maximum for ``value``: 1, 2 or 5 times a power of ten, at least 1 (``7`` → 10, ``23`` → 50)."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if value <= step * magnitude:
                return step * magnitude
        magnitude *= 10


def stacked_bars(
    labels: Sequence[str],
    series: Mapping[str, Sequence[int]],
    *,
    names: Mapping[str, str] | None = None,
    title: str = "",
    width: int = 720,
    height: int = 240,
    colours: Mapping[str, str] = STATUS_COLOURS,
    tick_chars: int = 5,
    axis_labels: Sequence[str] | None = None,
) -> SafeString:
    """One column per label, stacked by series, with a legend; ``series`` values align with ``labels``.

    The y axis has gridlines at 0, half and the top (a round number), each column its total above it when
    there is room, and columns are at most :data:`MAX_BAR_WIDTH` wide: one day of data reads as one labelled
    column, not as a block across the plot.

    ``axis_labels`` are the texts under the columns (default: each label's last five characters, the month and day
    of an ISO date); a label in another language's date format ends with the year instead.
    """
    names = names or {}
    pad_left, pad_bottom, pad_top, legend_h = 36, 28, 16, 18 * ((len(series) + 3) // 4)
    plot_h = height - pad_bottom - pad_top
    base_y = height - pad_bottom
    n = max(len(labels), 1)
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = nice_ceiling(max(totals, default=0))
    step = (width - pad_left) / n
    bar_w = max(min(step * 0.8, MAX_BAR_WIDTH), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="kyc-chart" role="img" width="{width}" '
        f'height="{height + legend_h}" viewBox="0 0 {width} {height + legend_h}">',
        f"<title>{escape(title)}</title>",
    ]
    ticks = sorted({0, top // 2, top}) if top > 1 else [0, top]
    for tick in ticks:
        y = base_y - plot_h * tick / top
        parts.append(
            f'<line class="kyc-grid" x1="{pad_left}" y1="{y:.1f}" x2="{width}" y2="{y:.1f}" '
            f'stroke="{"#999" if tick == 0 else "#e4e7eb"}"/>'
            f'<text class="kyc-axis" x="{pad_left - 4}" y="{y + 3:.1f}" font-size="10" text-anchor="end">{tick}</text>'
        )
    for i, label in enumerate(labels):
        x = pad_left + i * step + (step - bar_w) / 2
        y = float(base_y)
        for key, values in series.items():
            value = values[i]
            if not value:
                continue
            h = max(plot_h * value / top, MIN_BAR)
            y -= h
            parts.append(
                f'<rect class="kyc-bar" data-series="{escape(key)}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{colours.get(key, "#999")}">'
                f"<title>{escape(label)}: {escape(names.get(key, key))} {value}</title></rect>"
            )
        centre = x + bar_w / 2
        if totals[i] and step >= 16:
            parts.append(
                f'<text class="kyc-total" x="{centre:.1f}" y="{y - 3:.1f}" font-size="10" '
                f'text-anchor="middle">{totals[i]}</text>'
            )
        if n <= 16 or i % max(n // 8, 1) == 0:
            under = axis_labels[i] if axis_labels is not None else label[-tick_chars:]
            parts.append(
                f'<text class="kyc-axis" x="{centre:.1f}" y="{base_y + 14}" font-size="9" '
                f'text-anchor="middle">{escape(under)}</text>'
            )
    for j, key in enumerate(series):
        lx, ly = pad_left + (j % 4) * 170, height + 4 + 18 * (j // 4)
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="10" height="10" fill="{colours.get(key, "#999")}"/>'
            f'<text x="{lx + 14}" y="{ly + 9}" font-size="11">{escape(names.get(key, key))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every interpolated label is escaped above)


def horizontal_bars(
    rows: Sequence[tuple[str, float | None, str]],
    *,
    maximum: float | None = None,
    title: str = "",
    colour: str = "#3ebd93",
    width: int = 480,
) -> SafeString:
    """One bar per ``(label, value, text)`` on a grey track the width of the scale; ``None`` values draw no
    bar and print the text (e.g. "n/a")."""
    row_h, label_w, text_w = 24, 120, 90
    height = row_h * max(len(rows), 1) + 8
    top = maximum if maximum else max((v for _, v, _ in rows if v is not None), default=0) or 1
    plot_w = width - label_w - text_w
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="kyc-chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value, text) in enumerate(rows):
        y = 4 + i * row_h
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{escape(label)}</text>')
        w = max(plot_w * value / top, MIN_BAR) if value else 0
        if value is not None:
            # the track shows the scale: one bar alone still reads as a share of the axis
            parts.append(
                f'<rect class="kyc-track" x="{label_w}" y="{y + 3}" width="{plot_w}" height="{row_h - 8}" '
                'fill="#f0f2f5"/>'
            )
            parts.append(
                f'<rect class="kyc-bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
                f'fill="{colour}"><title>{escape(label)}: {escape(text)}</title></rect>'
            )
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12">{escape(text)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  (every interpolated label is escaped above)
