"""Every tutorial runs end to end in fast mode (``SNNTORCH_BAYES_FAST=1``:
a few batches), executed as a notebook from its paired percent-format
source, and its committed notebook (the full run, rendered in the docs)
holds the same code as that source."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_MNIST

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("*.py"))


def _code(notebook) -> list[str]:
    return [c.source.strip() for c in notebook.cells if c.cell_type == "code"]


@pytest.mark.parametrize("source", TUTORIALS, ids=lambda p: p.stem)
def test_committed_notebook_matches_its_source(source):
    paired = source.with_suffix(".ipynb")
    assert paired.exists(), f"run: jupytext --to ipynb --execute {source.name}"
    notebook = jupytext.read(paired)
    assert _code(notebook) == _code(jupytext.read(source)), (
        f"{paired.name} is out of date: re-execute it from {source.name}"
    )
    assert any(c.get("outputs") for c in notebook.cells if c.cell_type == "code"), (
        f"{paired.name} has no outputs: commit the executed full run"
    )


@pytest.mark.skipif(not SHARED_MNIST.exists(), reason="no local MNIST copy")
@pytest.mark.parametrize("source", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_in_fast_mode(source, tmp_path, monkeypatch):
    monkeypatch.setenv("SNNTORCH_BAYES_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("SNNTORCH_BAYES_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SNNTORCH_BAYES_MNIST", str(SHARED_MNIST))
    fashion = SHARED_MNIST.parent / "fashion-mnist"
    monkeypatch.setenv("SNNTORCH_BAYES_FASHION_MNIST", str(fashion))
    monkeypatch.setenv("SNNTORCH_BAYES_FSDD", str(SHARED_MNIST.parent / "fsdd-recordings.tar.gz"))
    if "import tonic" in source.read_text():
        pytest.importorskip("tonic")
    notebook = jupytext.read(source)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()  # raises CellExecutionError on any error
