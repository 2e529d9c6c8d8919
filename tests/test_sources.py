"""Every source of a shipped instance can be checked (issue 19, item 6): its
URL leads to the document, article or filing itself, an index of the
issuer's filings, or a search for it; never a bare home page, and the
README says how many sources the baseline cites."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "instances").rglob("*.yaml"))
LINKS = {"document", "article", "page", "filings", "search"}


def bare_home_page(url: str) -> bool:
    """An http(s) address with nothing after the host: no path beyond "/",
    no query, no fragment (https://www.mining.com/)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.path in ("", "/") and not parts.query and not parts.fragment


@pytest.mark.parametrize("url, bare", [
    ("https://www.mining.com/", True), ("http://www.mofcom.gov.cn", True), ("https://rawmaterials.net/#", True),
    ("https://rareearthexchanges.com/?p=11020", False), ("https://projectblue.com/blue/news-analysis/115", False),
    ("../shared/data/ree_facts.md", False),
])
def test_what_counts_as_a_bare_home_page(url, bare):
    assert bare_home_page(url) is bare


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_source_is_a_bare_home_page(path):
    sources = yaml.safe_load(path.read_text()).get("sources") or []
    bare = [s["id"] for s in sources if isinstance(s, dict) and bare_home_page(str(s.get("url", "")))]
    assert not bare, f"{path.name}: sources cited by their site's home page: {bare}"
    unlabelled = [s["id"] for s in sources if isinstance(s, dict) and s.get("url") and s.get("link") not in LINKS]
    assert not unlabelled, f"{path.name}: say what each link is ({', '.join(sorted(LINKS))}): {unlabelled}"
    searches = [s["id"] for s in sources if isinstance(s, dict) and s.get("link") == "search"]
    assert all("duckduckgo.com/?q=site%3A" in s["url"] for s in sources if s.get("id") in searches)


def test_primary_documents_are_cited_where_they_are_filed():
    """MP Materials' 8-K and 10-K at SEC EDGAR, not through an aggregator."""
    sources = {s["id"]: s for s in yaml.safe_load((ROOT / "instances" / "baseline.yaml").read_text())["sources"]}
    for key, form in (("mp-8k-2025-07", "8-K"), ("reportify-mp-10k-2024", "10-K")):
        url = sources[key]["url"]
        assert url.startswith("https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&CIK=MP&") and f"type={form}" in url
        assert sources[key]["link"] == "filings"
    aggregators = ("stocktitan.net", "business-standard.com", "en.ckhq.net", "reportify.ai")
    assert not [s["id"] for s in sources.values() if any(a in str(s.get("url")) for a in aggregators)]


def test_the_readme_counts_the_baselines_sources():
    count = len(yaml.safe_load((ROOT / "instances" / "baseline.yaml").read_text())["sources"])
    readme = (ROOT / "README.md").read_text()
    stated = re.search(r"`sources:` list \((\d+) publications", readme)
    assert stated and int(stated.group(1)) == count
