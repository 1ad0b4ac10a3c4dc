"""The report's page: one HTML file with its styles inline and its plots as PNG data URIs.

Nothing in the page loads anything: no scripts, no fonts, no stylesheets or images from
elsewhere, and a Content-Security-Policy that forbids them, so the file can be mailed, attached
to a ticket or opened on a machine without network and shows the same.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["escape", "figure_html", "key_values", "page", "section", "table"]

#: No scripts, no connections, no resources but inline styles and data: images.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'"
)

STYLE = """
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212529;
  margin: 0; background: #f8f9fa; }
header { background: #1c2b3a; color: #f8f9fa; padding: 1.2rem 2rem; }
header h1 { margin: 0 0 .3rem; font-size: 1.5rem; }
header p { margin: 0; color: #ced4da; }
nav { padding: .5rem 2rem; background: #e9ecef; font-size: .9rem; }
nav a { margin-right: 1rem; color: #1c2b3a; }
main { padding: 0 2rem 2rem; max-width: 1200px; }
section { background: #fff; border: 1px solid #dee2e6; border-radius: 6px; padding: .8rem 1.2rem;
  margin: 1.2rem 0; }
h2 { font-size: 1.2rem; margin: .2rem 0 .6rem; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
table { border-collapse: collapse; margin: .4rem 0 .8rem; font-size: .9rem; }
th, td { border-bottom: 1px solid #e9ecef; padding: .25rem .7rem .25rem 0; text-align: left;
  vertical-align: top; }
th { color: #495057; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.pipeline { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .82rem;
  word-break: break-word; }
.kv th { width: 14rem; }
.muted { color: #6c757d; }
.alert { border-left: 4px solid #e03131; padding-left: .6rem; }
.note { border-left: 4px solid #1c7ed6; padding-left: .6rem; }
figure { margin: .6rem 0 1rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #e9ecef; }
figcaption { color: #6c757d; font-size: .85rem; }
.grid { display: flex; flex-wrap: wrap; gap: 1rem; }
.grid figure { flex: 1 1 480px; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; }
"""


def escape(value: Any) -> str:
    """``value`` as HTML text (``None`` as a dash)."""
    return "–" if value is None else html.escape(str(value), quote=True)


def number(value: Any, digits: int = 4) -> str:
    """A number for a table cell."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return escape(value)
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    classes: dict[int, str] | None = None,
    caption: str | None = None,
    css: str = "",
) -> str:
    """A table whose cells are HTML already (escape them first); ``numeric`` columns align
    right, ``classes`` gives a column a CSS class."""
    classes = dict(classes or {})
    for index in numeric:
        classes[index] = (classes.get(index, "") + " num").strip()

    def cell(tag: str, index: int, text: str) -> str:
        css_class = classes.get(index)
        return (
            f'<{tag} class="{css_class}">{text}</{tag}>' if css_class else f"<{tag}>{text}</{tag}>"
        )

    head = "".join(cell("th", i, escape(h)) for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(cell("td", i, text) for i, text in enumerate(row)) + "</tr>"
        for row in rows
    )
    title = f"<caption>{escape(caption)}</caption>" if caption else ""
    attributes = f' class="{css}"' if css else ""
    return f"<table{attributes}>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def key_values(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table of names and HTML values."""
    body = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>'


def json_cell(value: Any) -> str:
    """A configuration value: scalars as text, the rest as compact JSON."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return f"<code>{escape(json.dumps(value))}</code>"
    return f"<code>{escape(json.dumps(value, sort_keys=True, default=str))}</code>"


def figure_html(figure: Figure, alt: str, caption: str = "") -> str:
    """``figure`` as an inline PNG (its memory released afterwards)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    figure.clear()
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    text = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt)}">{text}</figure>'


def section(anchor: str, title: str, body: str) -> str:
    """One section of the page, with its anchor for the navigation bar."""
    return f'<section id="{escape(anchor)}"><h2>{escape(title)}</h2>{body}</section>'


def page(title: str, subtitle: str, sections: Sequence[tuple[str, str, str]], footer: str) -> str:
    """The whole document: ``sections`` are ``(anchor, title, body HTML)``."""
    links = "".join(f'<a href="#{escape(a)}">{escape(t)}</a>' for a, t, _ in sections)
    body = "".join(section(a, t, b) for a, t, b in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header>"
        f"<nav>{links}</nav><main>{body}</main>"
        f'<footer class="muted" style="padding: 0 2rem 2rem">{escape(footer)}</footer>'
        "</body></html>\n"
    )
