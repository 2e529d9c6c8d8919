"""Renders the report's screenshots in docs/ with headless Chromium (tests/browser.py):

- docs/report_first_screen.png: what a reader sees on opening the baseline's report (1280 x 900);
- docs/report_decision.png: the section "What to sign now" (both plans side by side);
- docs/report_sourcing.png: the sourcing-mix chart by product, with demand drawn;
- docs/report_what_to_fund.png: the section "What to fund" (the budget curve, the builds, each
  expansion's value), where the baseline's facilities offer expansions.

    python docs/make_report_screenshots.py [--report existing.html]

The report is built from instances/baseline.yaml (12-17 minutes on 2 shared
cores: the extensive forms of its 24 futures are MIPs, each frontier point
besides the two plans given 2 minutes) unless --report gives one already built.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import Browser  # noqa: E402


def element_shot(browser: Browser, selector: str, path: Path, pad: int = 12) -> Path:
    """The element's box (and `pad` pixels around it), wherever it is on the page."""
    box = browser.evaluate(
        f"(() => {{ const r = document.querySelector({selector!r}).getBoundingClientRect();"
        " return [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]; })()"
    )
    left, top, width, height = box
    clip = {"x": max(0, left - pad), "y": max(0, top - pad), "width": width + 2 * pad, "height": height + 2 * pad,
            "scale": 1}
    data = browser.send("Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip)["data"]
    path.write_bytes(base64.b64decode(data))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="an HTML report of instances/baseline.yaml already built")
    args = parser.parse_args()
    report = args.report
    if report is None:
        from ree_opt.report import build_report

        os.environ.setdefault("SOURCE_DATE_EPOCH", "1780000000")
        report = build_report(ROOT / "instances" / "baseline.yaml", Path(tempfile.mkdtemp()) / "report.html")
    docs = ROOT / "docs"
    with Browser(width=1280, height=900) as browser:
        browser.open(Path(report).resolve().as_uri())
        assert browser.errors() == [], browser.errors()
        browser.screenshot(docs / "report_first_screen.png")
        element_shot(browser, "#chart-mix", docs / "report_sourcing.png")
        written = ["report_first_screen.png", "report_sourcing.png"]
        if browser.evaluate("document.getElementById('uncertainty') !== null"):  # a report without it keeps the last shot
            element_shot(browser, "#uncertainty", docs / "report_decision.png")
            written.append("report_decision.png")
        if browser.evaluate("document.getElementById('fund') !== null"):
            element_shot(browser, "#fund", docs / "report_what_to_fund.png")
            written.append("report_what_to_fund.png")
    for name in written:
        print(f"wrote docs/{name}")


if __name__ == "__main__":
    main()
