"""Every notebook runs top to bottom (jupytext percent script -> notebook -> nbclient), within
two minutes, and shows its figures."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
BUDGET_SECONDS = 120


def test_the_seven_notebooks_are_there():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path):
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    nb = jupytext.read(path)
    client = nbclient.NotebookClient(nb, timeout=BUDGET_SECONDS, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    started = time.monotonic()
    client.execute()  # raises CellExecutionError naming the cell on the first failure
    elapsed = time.monotonic() - started
    print(f"{path.name}: {elapsed:.1f} s")
    assert elapsed < BUDGET_SECONDS
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the notebook shows at least one figure"
