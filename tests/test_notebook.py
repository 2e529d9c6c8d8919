"""The example notebook (examples/walkthrough.ipynb) runs top to bottom in a
fresh Jupyter kernel and shows the library's answers."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

import ree_opt

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TOY = EXAMPLES.parent / "instances" / "toy.yaml"


def outputs(notebook) -> list[str]:
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            found.append(output.get("text", "") + data.get("text/plain", "") + data.get("text/html", ""))
    return found


def test_the_walkthrough_runs_and_shows_the_premium():
    notebook = nbformat.read(EXAMPLES / "walkthrough.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    shown = outputs(notebook)
    assert not [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    premium = ree_opt.non_china_premium(TOY).premium_musd
    assert any(f"Non-China premium: USD {premium:,.2f} million" in text for text in shown)
    # the Solution and the Comparison show themselves as HTML tables
    assert any(text.count('<div class="ree-opt-solution">') for text in shown)
    assert any('<div class="ree-opt-comparison">' in text and f"{premium:,.2f}" in text for text in shown)
    # the ranging check: just inside the range the plan holds
    assert any("same plan" in text for text in shown)
