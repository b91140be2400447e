"""The « Statistiques » page's charts: plain SVG written here, on the server (no script, no
library, nothing fetched elsewhere; the console's CSP allows no inline style: colours are
classes of console.css). Every text is escaped."""
from __future__ import annotations

from collections import OrderedDict
from datetime import date
from html import escape
from typing import Any, Dict, List, Sequence, Tuple

from markupsafe import Markup

from web.console.pages import field

WIDTH, HEIGHT = 640, 220
LEFT, BOTTOM, TOP = 44, 28, 12


def _day_label(value: Any) -> str:
    return value.strftime("%d/%m") if isinstance(value, date) else escape(str(value))


def per_day(days: Sequence[Any]) -> "OrderedDict[Any, Dict[str, int]]":
    """The figures of every channel added up, per day."""
    totals: "OrderedDict[Any, Dict[str, int]]" = OrderedDict()
    for row in days:
        total = totals.setdefault(field(row, "day"), {"conversations": 0, "contained": 0, "handoffs": 0,
                                                      "customer_messages": 0, "fallback_messages": 0})
        for name in total:
            total[name] += field(row, name) or 0
    return totals


def _svg(title: str, body: List[str], height: int = HEIGHT) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>' + "".join(body) + "</svg>")


def conversations_chart(days: Sequence[Any]) -> Markup:
    """Bars per day: conversations ended without a hand-off, and those handed off on top."""
    totals = per_day(days)
    if not totals:
        return Markup("")
    peak = max(total["conversations"] for total in totals.values()) or 1
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / len(totals)
    bar = max(4.0, min(48.0, slot * 0.6))
    body = [f'<line class="axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}"/>',
            f'<text class="tick" x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{peak}</text>',
            f'<text class="tick" x="{LEFT - 6}" y="{HEIGHT - BOTTOM}" text-anchor="end">0</text>']
    for index, (day, total) in enumerate(totals.items()):
        x = LEFT + index * slot + (slot - bar) / 2
        contained_height = plot_height * total["contained"] / peak
        handed_height = plot_height * total["handoffs"] / peak
        base = HEIGHT - BOTTOM
        body.append(f'<rect class="bar-contained" x="{x:.1f}" y="{base - contained_height:.1f}" width="{bar:.1f}" '
                    f'height="{contained_height:.1f}"><title>{_day_label(day)} : {total["contained"]} sans '
                    f'conseiller</title></rect>')
        body.append(f'<rect class="bar-handoff" x="{x:.1f}" y="{base - contained_height - handed_height:.1f}" '
                    f'width="{bar:.1f}" height="{handed_height:.1f}"><title>{_day_label(day)} : '
                    f'{total["handoffs"]} transférées</title></rect>')
        body.append(f'<text class="tick" x="{x + bar / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle">'
                    f'{_day_label(day)}</text>')
    return _svg("Conversations par jour : sans conseiller et transférées", body)


def rates_chart(days: Sequence[Any]) -> Markup:
    """Three lines per day, in percent: containment, fallback, hand-off."""
    totals = per_day(days)
    if not totals:
        return Markup("")
    plot_height = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / len(totals)
    series: Dict[str, List[Tuple[float, float]]] = {"containment": [], "fallback": [], "handoff": []}
    body = [f'<line class="axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}"/>',
            f'<text class="tick" x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">100 %</text>',
            f'<text class="tick" x="{LEFT - 6}" y="{HEIGHT - BOTTOM}" text-anchor="end">0 %</text>']
    for index, (day, total) in enumerate(totals.items()):
        x = LEFT + index * slot + slot / 2
        rates = {
            "containment": total["contained"] / total["conversations"] if total["conversations"] else 0.0,
            "fallback": total["fallback_messages"] / total["customer_messages"] if total["customer_messages"] else 0.0,
            "handoff": total["handoffs"] / total["conversations"] if total["conversations"] else 0.0,
        }
        for name, rate in rates.items():
            series[name].append((x, HEIGHT - BOTTOM - plot_height * rate))
        body.append(f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="middle">{_day_label(day)}</text>')
    for name, points in series.items():
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline class="line-{name}" points="{path}"/>')
        body.extend(f'<circle class="dot-{name}" cx="{x:.1f}" cy="{y:.1f}" r="3"/>' for x, y in points)
    return _svg("Taux par jour : autonomie, incompréhension, transfert", body)


def intents_chart(top_intents: Sequence[Any], labels: Dict[str, str]) -> Markup:
    """Horizontal bars: the most frequent requests."""
    if not top_intents:
        return Markup("")
    row_height, label_width = 24, 220
    height = TOP + row_height * len(top_intents) + 8
    peak = max(field(item, "count") for item in top_intents) or 1
    body = []
    for index, item in enumerate(top_intents):
        name, count = field(item, "intent"), field(item, "count")
        y = TOP + index * row_height
        width = (WIDTH - label_width - 50) * count / peak
        body.append(f'<text class="label" x="{label_width - 8}" y="{y + 15}" text-anchor="end">'
                    f'{escape(labels.get(name, name))}</text>')
        body.append(f'<rect class="bar-intent" x="{label_width}" y="{y + 3}" width="{width:.1f}" height="16"/>')
        body.append(f'<text class="tick" x="{label_width + width + 6:.1f}" y="{y + 15}">{count}</text>')
    return _svg("Demandes les plus fréquentes", body, height)
