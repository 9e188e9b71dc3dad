"""Execute the tutorials (full mode unless SNNTORCH_BAYES_FAST=1) and write
each notebook, with its outputs, next to its percent-format source:

    .venv/bin/python scripts/run_tutorials.py                 # every tutorial
    .venv/bin/python scripts/run_tutorials.py quickstart      # one

The committed notebooks are what the documentation renders.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import jupytext
import nbclient

TUTORIALS = Path(__file__).resolve().parents[1] / "tutorials"


def main(names: list[str]) -> int:
    sources = sorted(TUTORIALS.glob("*.py"))
    if names:
        sources = [s for s in sources if s.stem in names]
        missing = set(names) - {s.stem for s in sources}
        if missing:
            print(f"no such tutorial: {', '.join(sorted(missing))}", file=sys.stderr)
            return 2
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for source in sources:
        started = time.perf_counter()
        notebook = jupytext.read(source)
        nbclient.NotebookClient(
            notebook, timeout=3600, kernel_name="python3",
            resources={"metadata": {"path": str(TUTORIALS)}},
        ).execute()  # fmt: skip
        jupytext.write(notebook, source.with_suffix(".ipynb"))
        print(f"{source.stem}: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
