"""The report as one self-contained HTML file.

Charts are inline SVG, styles are inline, there is no script, and a
Content-Security-Policy forbids any fetch and any script: the file opens
offline, and nothing an instance holds can run. Every string is escaped
with `html.escape` where it is written.
"""

from __future__ import annotations

from html import escape

from . import layout
from .charts import CHARTS, render_svg
from .data import ReportData

POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9dee4; --soft: #f4f6f8; --accent: #1f6fb2; --warn: #c0392b; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
.page { max-width: 1120px; margin: 0 auto; padding: 28px 32px 48px; }
header.top { border-bottom: 3px solid var(--ink); padding-bottom: 14px; margin-bottom: 8px; }
.kicker { margin: 0; color: var(--muted); font-size: 12px; letter-spacing: .08em; text-transform: uppercase; }
h1 { font-size: 28px; line-height: 1.2; margin: 6px 0 8px; }
h2 { font-size: 21px; margin: 0 0 10px; padding-top: 4px; }
h3 { font-size: 16px; margin: 22px 0 8px; }
.description { margin: 0 0 8px; max-width: 100ch; }
.meta { margin: 0; color: var(--muted); font-size: 13px; max-width: none; }
.meta span + span::before { content: " · "; }
nav.toc { margin: 10px 0 0; font-size: 13px; }
nav.toc ol { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
section.report { padding: 22px 0 10px; border-top: 1px solid var(--line); }
section.report:first-of-type { border-top: 0; }
p { margin: 0 0 10px; max-width: 92ch; }
p.lead { font-size: 18px; line-height: 1.45; max-width: 80ch; }
p.note { color: var(--muted); font-size: 13px; }
.kpis { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 12px; margin: 16px 0 18px; }
.kpi { background: var(--soft); border-left: 4px solid var(--accent); padding: 10px 14px 12px; }
.kpi.main { border-left-color: var(--warn); }
.kpi .label { color: var(--muted); font-size: 12.5px; }
.kpi .value { display: block; font-size: 28px; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.25; }
.kpi .detail { font-size: 13px; color: var(--muted); }
figure.chart { margin: 12px 0 18px; break-inside: avoid; page-break-inside: avoid; }
figure.chart svg { display: block; width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
.table-wrap { overflow-x: auto; margin: 6px 0 16px; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
caption { text-align: left; font-weight: 600; padding: 4px 0 6px; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; text-align: left; }
th { background: var(--soft); font-weight: 600; border-bottom: 2px solid var(--line); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.wide th { white-space: normal; min-width: 7ch; }
table.wide td.text { min-width: 12ch; }
#table-assumptions td:nth-child(2) { width: 24%; }
#table-assumptions td:nth-child(4) { width: 17%; }
details { margin: 6px 0 14px; }
summary { cursor: pointer; color: var(--accent); font-size: 13px; }
ol.sources { font-size: 13px; padding-left: 2.2em; }
ol.sources li { margin: 2px 0; }
.src-id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; color: var(--muted); }
a { color: var(--accent); overflow-wrap: anywhere; }
footer { margin-top: 28px; padding-top: 10px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12.5px; }
@media (max-width: 760px) { .kpis { grid-template-columns: repeat(2, minmax(0, 1fr)); } .page { padding: 16px; } }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 10.5pt; }
  .page { max-width: none; padding: 0; }
  nav.toc { display: none; }
  section.report { break-before: auto; }
  h2, h3, caption { break-after: avoid; }
  tr, .kpi { break-inside: avoid; }
  .table-wrap { overflow: visible; }
  table { font-size: 8.5pt; }
  th, td { padding: 2px 4px; }
  table.wide td, table.wide th { white-space: normal; }
  details::details-content { content-visibility: visible; display: block; }
  details > summary { display: none; }
  a { color: inherit; text-decoration: none; }
}
"""


def esc(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def _value_attribute(cell: layout.Cell) -> str:
    return f' data-value="{esc(repr(cell.value))}"' if cell.value is not None else ""


def _cell(cell: layout.Cell, anchors: dict, tag: str = "td") -> str:
    if cell.refs:
        parts = [
            f'<a href="#{anchors[ref]}">{esc(ref)}</a>' if ref in anchors else esc(ref) for ref in cell.refs
        ]
        return f'<{tag} class="text">{"; ".join(parts)}</{tag}>'
    content = esc(cell.text)
    url = layout.safe_url(cell.url)
    if url:
        content = f'<a href="{esc(url)}">{content}</a>'
    css = "num" if cell.numeric else "text"
    return f'<{tag} class="{css}"{_value_attribute(cell)}>{content}</{tag}>'


def table(block: layout.Table, anchors: dict) -> str:
    numeric = [any(row[i].numeric for row in block.rows) for i in range(len(block.headers))]
    head = "".join(
        f'<th scope="col"{" class=num" if numeric[i] else ""}>{esc(h)}</th>' for i, h in enumerate(block.headers)
    )
    body = "\n".join("<tr>" + "".join(_cell(c, anchors) for c in row) + "</tr>" for row in block.rows)
    css = ' class="wide"' if block.wide else ""
    html = (
        f'<div class="table-wrap"><table id="{esc(block.id)}"{css}><caption>{esc(block.caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></div>"
    )
    if block.id == "table-mix":  # long: folded on screen, shown in print
        html = f"<details><summary>Show the table ({len(block.rows)} rows)</summary>{html}</details>"
    return html


def block_html(block, data: ReportData, anchors: dict, svgs: dict) -> str:
    if isinstance(block, layout.Paragraph):
        css = f' class="{esc(block.css)}"' if block.css else ""
        return f"<p{css}>{esc(block.text)}</p>"
    if isinstance(block, layout.Heading):
        return f'<h3 id="{esc(block.id)}">{esc(block.text)}</h3>'
    if isinstance(block, layout.Kpis):
        items = []
        for i, kpi in enumerate(block.items):
            items.append(
                f'<div class="kpi{" main" if i == 0 else ""}"><span class="label">{esc(kpi.label)}</span>'
                f'<span class="value" data-key="{esc(kpi.key)}"'
                + (f' data-value="{esc(repr(float(kpi.value)))}"' if kpi.value is not None else "") + '>'
                f'{esc(kpi.text)}</span><span class="detail">{esc(kpi.detail)}</span></div>'
            )
        return f'<div class="kpis">{"".join(items)}</div>'
    if isinstance(block, layout.Chart):
        return (
            f'<figure class="chart" id="chart-{esc(block.name)}">{svgs[block.name]}'
            f'<figcaption id="chart-{esc(block.name)}-caption">{esc(block.caption)}</figcaption></figure>'
        )
    if isinstance(block, layout.Table):
        return table(block, anchors)
    if isinstance(block, layout.SourceList):
        if block.sources.empty:
            return '<p class="note">The instance lists no sources.</p>'
        items = []
        for index, source in enumerate(block.sources.itertuples(), start=1):
            details = ", ".join(esc(part) for part in (source.publisher, source.date) if part)
            url = layout.safe_url(source.url)
            link = f' <a href="{esc(url)}">{esc(url)}</a>' if url else (f" {esc(source.url)}" if source.url else "")
            items.append(
                f'<li id="src-{index}"><span class="src-id">{esc(source.id)}</span> {esc(source.title)}'
                f'{". " + details if details else ""}.{link}</li>'
            )
        return f'<ol class="sources" id="source-list">{"".join(items)}</ol>'
    raise TypeError(f"unknown block {block!r}")


def render(data: ReportData) -> str:
    """The whole document as a string."""
    anchors = layout.source_anchors(data)
    svgs = {}
    sections = layout.sections(data)
    for section in sections:
        for block in section.blocks:
            if isinstance(block, layout.Chart):
                figure = CHARTS[block.name](data)
                svgs[block.name] = render_svg(figure, f"chart-{block.name}")
    inst = data.instance
    meta = data.meta()
    toc = "".join(f'<li><a href="#{esc(section.id)}">{esc(section.title)}</a></li>' for section in sections)
    body = []
    for section in sections:
        blocks = "\n".join(block_html(b, data, anchors, svgs) for b in section.blocks)
        body.append(f'<section class="report" id="{esc(section.id)}">\n<h2>{esc(section.title)}</h2>\n{blocks}\n</section>')
    title = f"What a non-China supply chain costs: {inst.name}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ree_opt {esc(data.version)}">
<title>{esc(title)}</title>
<style>{CSS}</style>
</head>
<body>
<div class="page">
<header class="top">
<p class="kicker">ree_opt sensitivity report</p>
<h1>{esc(title)}</h1>
{f'<p class="description">{esc(inst.description)}</p>' if inst.description else ""}
<p class="meta">{"".join(f"<span>{esc(m)}</span>" for m in meta)}</p>
<nav class="toc" aria-label="Sections"><ol>{toc}</ol></nav>
</header>
<main>
{chr(10).join(body)}
</main>
<footer>Generated by ree_opt {esc(data.version)} on {esc(data.created)} from {esc(data.instance_path or inst.name)}.
Costs are in USD million over the horizon, quantities in tonnes, prices in USD/kg. Penalties for unmet demand and the
assumptions listed in the appendix are inputs, not findings.</footer>
</div>
</body>
</html>
"""
