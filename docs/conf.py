"""Sphinx configuration: ``bash scripts/docs.sh`` builds the site into
``docs/_build/html`` (warnings are errors)."""

from __future__ import annotations

import shutil
from pathlib import Path

import snntorch_bayes

HERE = Path(__file__).resolve().parent

project = "snntorch_bayes"
author = "snntorch_bayes developers"
release = version = snntorch_bayes.__version__
copyright = "2026, snntorch_bayes developers"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    # MathJax served with the site, so the equations render offline
    "sphinx-mathjax-offline",
]
exclude_patterns = ["_build", "img/*.py"]
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
# the tutorials are rendered from their committed full runs, not re-executed
nb_execution_mode = "off"
# a cell's printed lines (a table printed row by row) render as one block
nb_merge_streams = True
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
html_theme = "furo"
html_title = f"snntorch_bayes {version}"
suppress_warnings = ["myst.xref_missing"]


def _copy_tutorials(app) -> None:
    """Render the notebooks of ``tutorials/`` (one copy, made at build time)."""
    target = HERE / "tutorials"
    target.mkdir(exist_ok=True)
    for notebook in sorted((HERE.parent / "tutorials").glob("*.ipynb")):
        shutil.copyfile(notebook, target / notebook.name)


def _copy_results(app) -> None:
    """The benchmarks' figures, as ``benchmarks/run_all.py`` last wrote them."""
    target = HERE / "results"
    target.mkdir(exist_ok=True)
    for figure in sorted((HERE.parent / "benchmarks" / "results").glob("*.png")):
        shutil.copyfile(figure, target / figure.name)


def setup(app):
    app.connect("builder-inited", _copy_tutorials)
    app.connect("builder-inited", _copy_results)
