"""Alerts and incidents per day, as a PNG (matplotlib) or a self-contained HTML page (inline SVG).

People read a month of runs faster as bars than as lines of text. The HTML page needs no
script and no external asset, so it opens from a CI artifact or a mail attachment as it is;
the PNG needs matplotlib, the ``chart`` extra.
"""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path

from dac.errors import DacError, Location
from dac.simulate import DayTotal, Simulation

ALERT_COLOUR = "#d9534f"
INCIDENT_COLOUR = "#337ab7"
SUFFIXES = (".png", ".html", ".htm")


def write_chart(simulation: Simulation, path: str) -> Path:
    """Write the chart to ``path``, PNG or HTML by its suffix, replacing it atomically."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in SUFFIXES:
        raise DacError(f"--chart: expected a .png or .html file, got {target.name!r}", Location(path))
    if suffix == ".png":
        content = png(simulation)
    else:
        content = html_page(simulation).encode("utf-8")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise DacError("--chart: the folder does not exist", Location(str(directory)))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise DacError(f"--chart: cannot write the chart: {exc.strerror}", Location(path)) from None
    return target


def _title(simulation: Simulation) -> str:
    return (f"{simulation.settings.name}: alerts and incidents per day\n"
            f"{simulation.first:%Y-%m-%d %H:%M} to {simulation.last:%Y-%m-%d %H:%M} UTC")


def png(simulation: Simulation) -> bytes:
    """The chart as PNG bytes (matplotlib's Agg backend: no display needed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        raise DacError("--chart with a .png needs matplotlib: pip install 'dac-framework[chart]' "
                       "(or write a .html chart, which needs nothing)", Location("--chart")) from None
    import io

    days = simulation.days()
    labels = [d.day.strftime("%m-%d") for d in days]
    positions = range(len(days))
    figure, axes = pyplot.subplots(figsize=(max(6.0, 0.35 * len(days) + 2), 4), dpi=100)
    width = 0.4
    axes.bar([p - width / 2 for p in positions], [d.alerts for d in days], width, label="alerts", color=ALERT_COLOUR)
    axes.bar([p + width / 2 for p in positions], [d.incidents for d in days], width, label="incidents",
             color=INCIDENT_COLOUR)
    axes.set_xticks(list(positions), labels, rotation=90 if len(days) > 10 else 0)
    axes.set_ylabel("count")
    axes.set_ylim(0, max([d.alerts for d in days] + [d.incidents for d in days] + [1]) * 1.3)
    axes.set_title(_title(simulation), fontsize=9)
    axes.legend()
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()


def svg(days: list[DayTotal], title: str) -> str:
    """Grouped bars of alerts and incidents per day, with axis, day labels and a legend."""
    left, top, bottom, slot = 50, 56, 70, 28
    height = 280
    width = max(620, left + slot * max(len(days), 1) + 20)
    slot = (width - left - 20) // max(len(days), 1)  # a short range spreads its days over the axis
    highest = max([d.alerts for d in days] + [d.incidents for d in days] + [1])
    scale = (height - top - bottom) / highest
    base = height - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title.replace(chr(10), ", "))}">',
             f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
             *(f'<text x="{left}" y="{20 + 17 * n}" font-family="sans-serif" font-size="13">{html.escape(line)}</text>'
               for n, line in enumerate(title.splitlines())),
             f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#333"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="#333"/>',
             f'<text x="{left - 6}" y="{base}" text-anchor="end" font-family="sans-serif" font-size="10">0</text>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-family="sans-serif" '
             f'font-size="10">{highest}</text>']
    for i, day in enumerate(days):
        x = left + i * slot + 4
        for offset, value, colour, what in ((0, day.alerts, ALERT_COLOUR, "alerts"),
                                            (10, day.incidents, INCIDENT_COLOUR, "incidents")):
            bar = value * scale
            parts.append(f'<rect x="{x + offset}" y="{base - bar:.1f}" width="10" height="{bar:.1f}" '
                         f'fill="{colour}"><title>{day.day}: {value} {what}</title></rect>')
        parts.append(f'<text x="{x + 10}" y="{base + 8}" font-family="sans-serif" font-size="9" '
                     f'transform="rotate(60 {x + 10} {base + 8})">{day.day:%m-%d}</text>')
    legend = height - 14
    parts += [f'<rect x="{left}" y="{legend - 9}" width="10" height="10" fill="{ALERT_COLOUR}"/>',
              f'<text x="{left + 14}" y="{legend}" font-family="sans-serif" font-size="11">alerts</text>',
              f'<rect x="{left + 70}" y="{legend - 9}" width="10" height="10" fill="{INCIDENT_COLOUR}"/>',
              f'<text x="{left + 84}" y="{legend}" font-family="sans-serif" font-size="11">incidents</text>',
              "</svg>"]
    return "\n".join(parts)


def html_page(simulation: Simulation) -> str:
    """One HTML file: the SVG chart and a table of the totals per day; no script, no external asset."""
    days = simulation.days()
    title = _title(simulation)
    rows = "\n".join(f"<tr><td>{d.day}</td><td>{d.runs}</td><td>{d.suppressed}</td><td>{d.fired}</td>"
                     f"<td>{d.alerts}</td><td>{d.incidents}</td></tr>" for d in days)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title.replace(chr(10), ", "))}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; background: #fff; }}
table {{ border-collapse: collapse; margin-top: 1em; }}
td, th {{ border: 1px solid #ccc; padding: 2px 8px; text-align: right; }}
</style>
</head>
<body>
<h1>{html.escape(simulation.settings.name)}</h1>
<p>{html.escape(simulation.settings.kind)} rule, {len(simulation.outcomes):,} runs, {len(simulation.alerts):,} alerts,
{len(simulation.incidents):,} incidents.</p>
{svg(days, title)}
<table>
<tr><th>day</th><th>runs</th><th>suppressed</th><th>fired</th><th>alerts</th><th>incidents</th></tr>
{rows}
</table>
</body>
</html>
"""
