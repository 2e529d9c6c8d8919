#!/bin/sh
# Renders docs/workbook_premium.png: the summary sheet and the first sourcing-mix
# charts of `ree-opt premium instances/baseline.yaml --out premium.xlsx`, as
# LibreOffice prints them. Needs LibreOffice Calc and poppler-utils
# (apt-get install -y --no-install-recommends libreoffice-calc poppler-utils);
# CI does not run this.
set -e
cd "$(dirname "$0")/.."
work=$(mktemp -d)
ree-opt premium instances/baseline.yaml --out "$work/premium.xlsx" > /dev/null
(cd "$work" && soffice --headless --convert-to pdf premium.xlsx > /dev/null 2>&1)
pdftoppm -png -r 110 -f 1 -l 2 "$work/premium.pdf" "$work/page"
python3 - "$work" <<'PY'
import sys
from PIL import Image, ImageChops, ImageDraw

work = sys.argv[1]

def trimmed(path, height=None):
    page = Image.open(path).convert("RGB")
    if height:
        page = page.crop((0, 0, page.width, height))
    box = ImageChops.difference(page, Image.new("RGB", page.size, "white")).getbbox()
    left, top, right, bottom = box
    return page.crop((max(left - 20, 0), max(top - 20, 0), min(right + 20, page.width), min(bottom + 20, page.height)))

summary = trimmed(f"{work}/page-01.png")
charts = trimmed(f"{work}/page-02.png", height=690)
width = max(summary.width, charts.width)
out = Image.new("RGB", (width, summary.height + charts.height + 31), "white")
out.paste(summary, (0, 0))
ImageDraw.Draw(out).line((0, summary.height + 15, width, summary.height + 15), fill=(190, 190, 190), width=1)
out.paste(charts, (0, summary.height + 31))
out.save("docs/workbook_premium.png", optimize=True)
PY
rm -rf "$work"
echo "wrote docs/workbook_premium.png"
