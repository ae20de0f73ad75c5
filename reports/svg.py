"""Inline SVG charts (no scripts, no external assets); every label is escaped."""

from __future__ import annotations

import math

from markupsafe import Markup, escape

PALETTE = ("#2456a6", "#d9822b", "#1d7a46", "#b3261e", "#7b4fa0", "#4a8fa8", "#8a6d3b", "#555f6d")


def _num(x: float | None) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def interval_chart(rows: list[str], series: list[str], values: dict[tuple[str, str], tuple[float, float, float]],
                   *, title: str, width: int = 760, unit: str = "%",
                   spreads: dict[tuple[str, str], tuple[float, float]] | None = None) -> Markup:
    """Horizontal dot-and-whisker chart: one band per row, one dot (with CI whisker) per series; ``spreads``
    adds the lowest and highest seed's score of a multi-seed system as two hollow dots."""
    band = 16 + 12 * max(1, len(series))
    left, right, top = 190, 30, 50
    height = top + band * len(rows) + 40
    pts = [v for v in values.values() if v is not None and _num(v[0])]
    lo = min((v[1] for v in pts if _num(v[1])), default=0.0)
    hi = max((v[2] for v in pts if _num(v[2])), default=100.0)
    lo, hi = math.floor(min(lo, hi - 1) / 5) * 5, math.ceil(max(hi, lo + 1) / 5) * 5
    scale = (width - left - right) / (hi - lo)

    def x(v: float) -> float:
        return left + (v - lo) * scale

    out = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
           f'<text x="{left}" y="16" font-size="13" font-weight="600">{escape(title)}</text>']
    step = 5 if hi - lo <= 40 else 10 if hi - lo <= 100 else 20
    for tick in range(int(lo), int(hi) + 1, step):
        out.append(f'<line x1="{x(tick):.1f}" y1="{top - 6}" x2="{x(tick):.1f}" y2="{height - 30}" '
                   'stroke="#e3e7ee"/>')
        out.append(f'<text x="{x(tick):.1f}" y="{height - 14}" font-size="11" text-anchor="middle" '
                   f'fill="#5b6575">{tick}{escape(unit)}</text>')
    for r, row in enumerate(rows):
        y0 = top + r * band
        out.append(f'<text x="{left - 8}" y="{y0 + band / 2 + 4:.1f}" font-size="12" text-anchor="end">'
                   f'{escape(row)}</text>')
        for s, name in enumerate(series):
            v = values.get((row, name))
            if v is None or not _num(v[0]):
                continue
            y = y0 + 10 + s * 12
            color = PALETTE[s % len(PALETTE)]
            if _num(v[1]) and _num(v[2]):
                out.append(f'<line x1="{x(v[1]):.1f}" y1="{y}" x2="{x(v[2]):.1f}" y2="{y}" stroke="{color}" '
                           'stroke-width="2"/>')
            out.append(f'<circle cx="{x(v[0]):.1f}" cy="{y}" r="4" fill="{color}"><title>{escape(row)} · '
                       f'{escape(name)}: {v[0]:.1f} [{v[1]:.1f}, {v[2]:.1f}]</title></circle>')
            spread = (spreads or {}).get((row, name))
            if spread is not None and _num(spread[0]) and _num(spread[1]):
                for end in spread:
                    out.append(f'<circle class="seed" cx="{x(end):.1f}" cy="{y}" r="2.5" fill="white" '
                               f'stroke="{color}" stroke-width="1.5"><title>{escape(row)} · {escape(name)}: seeds '
                               f'{spread[0]:.1f}–{spread[1]:.1f}</title></circle>')
    legend_x = left
    for s, name in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        out.append(f'<circle cx="{legend_x + 5}" cy="{top - 14}" r="4" fill="{color}"/>'
                   f'<text x="{legend_x + 13}" y="{top - 10}" font-size="11">{escape(name)}</text>')
        legend_x += 20 + 7 * len(name)
    out.append("</svg>")
    return Markup("".join(out))


def heat(value: float | None, lo: float, hi: float) -> str:
    """Background colour for a heatmap cell (light for low, blue for high)."""
    if not _num(value) or hi <= lo:
        return "#ffffff"
    t = max(0.0, min(1.0, (value - lo) / (hi - lo)))
    r, g, b = (int(255 + (c - 255) * t) for c in (120, 160, 220))
    return f"#{r:02x}{g:02x}{b:02x}"


def spread_dots(low: float | None, high: float | None, value: float | None, *, width: int = 48) -> Markup:
    """Inline min–max seed spread of one cell: a line from the lowest to the highest seed's score, a hollow dot
    at each end and a tick at the mean, on a scale of the cell's own range (its title gives the numbers)."""
    if not (_num(low) and _num(high) and _num(value)):
        return Markup("")
    span = max(high - low, 1e-9)

    def x(v: float) -> float:
        return 4 + (v - low) / span * (width - 8)

    title = f"seeds {low:.1f}–{high:.1f} (mean {value:.1f})"
    return Markup(f'<svg class="spread" role="img" width="{width}" height="10" viewBox="0 0 {width} 10" '
                  f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
                  f'<line x1="{x(low):.1f}" y1="5" x2="{x(high):.1f}" y2="5" stroke="#8a94a6"/>'
                  f'<line x1="{x(value):.1f}" y1="1" x2="{x(value):.1f}" y2="9" stroke="#2456a6" stroke-width="1.5"/>'
                  f'<circle cx="{x(low):.1f}" cy="5" r="2.5" fill="white" stroke="#2456a6"/>'
                  f'<circle cx="{x(high):.1f}" cy="5" r="2.5" fill="white" stroke="#2456a6"/></svg>')
