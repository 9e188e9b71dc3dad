"""Sphinx configuration: ``bash scripts/docs.sh`` builds the site into
``docs/_build/html`` (warnings are errors)."""

from __future__ import annotations

import shutil
import sys
import zlib
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
    "sphinx.ext.intersphinx",
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
# every cross-reference must resolve (``scripts/docs.sh`` builds with -n -W)
nitpicky = True
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


# --------------------------------------------------------------------------
# Links into the documentation of Python, PyTorch, torchvision, NumPy and
# snnTorch.  The site builds offline, so rather than downloading those
# projects' inventories, the names this site refers to are listed here (the
# names autodoc writes: private module paths, and the short names of type
# hints it leaves unresolved, such as ``nn.Module``) with the address of
# their entry in that project's documentation; ``_inventory`` writes them as a
# Sphinx inventory that intersphinx reads.
# --------------------------------------------------------------------------

_TORCH_NN = ("AvgPool2d", "Conv2d", "Flatten", "Linear", "MaxPool2d", "Module")
_TORCH_NN_PRIVATE = {
    "AvgPool2d": "pooling",
    "Conv2d": "conv",
    "Flatten": "flatten",
    "Linear": "linear",
    "MaxPool2d": "pooling",
    "Module": "module",
}
EXTERNAL = {
    "python": (
        "https://docs.python.org/3/",
        {
            **{
                f"collections.abc.{n}": ("class", "library/collections.abc.html#$")
                for n in ("Callable", "Iterable", "Iterator")
            },
            "os.PathLike": ("class", "library/os.html#$"),
            "pathlib.Path": ("class", "library/pathlib.html#$"),
        },
    ),
    "numpy": (
        "https://numpy.org/doc/stable/",
        {
            name: ("class", "reference/generated/numpy.ndarray.html#numpy.ndarray")
            for name in ("numpy.ndarray", "np.ndarray")
        },
    ),
    "torch": (
        "https://docs.pytorch.org/docs/stable/",
        {
            "torch.Tensor": ("class", "tensors.html#$"),
            "torch.Tensor.flatten": ("method", "generated/$.html#$"),
            "torch.Tensor.reshape": ("method", "generated/$.html#$"),
            "torch.Generator": ("class", "generated/$.html#$"),
            "torch._C.Generator": ("class", "generated/torch.Generator.html#torch.Generator"),
            "torch.device": ("class", "tensor_attributes.html#$"),
            "torch.dtype": ("class", "tensor_attributes.html#$"),
            "torch.flatten": ("function", "generated/$.html#$"),
            "torch.distributions.normal.Normal": ("class", "distributions.html#$"),
            **{
                name: ("class", "distributions.html#torch.distributions.distribution.Distribution")
                for name in ("torch.distributions.distribution.Distribution", "Distribution")
            },
            "torch.optim.Optimizer": ("class", "optim.html#$"),
            "torch.optim.optimizer.Optimizer": (
                "class",
                "optim.html#torch.optim.Optimizer",
            ),
            "torch.utils.data.Dataset": ("class", "data.html#$"),
            "torch.utils.data.dataset.Dataset": (
                "class",
                "data.html#torch.utils.data.Dataset",
            ),
            **{
                f"torch.nn.functional.{n}": ("function", "generated/$.html#$")
                for n in ("avg_pool2d", "max_pool2d")
            },
            **{f"torch.nn.{n}": ("class", "generated/$.html#$") for n in _TORCH_NN},
            **{
                f"nn.{n}": ("class", f"generated/torch.nn.{n}.html#torch.nn.{n}") for n in _TORCH_NN
            },
            **{
                f"torch.nn.modules.{m}.{n}": ("class", f"generated/torch.nn.{n}.html#torch.nn.{n}")
                for n, m in _TORCH_NN_PRIVATE.items()
            },
        },
    ),
    "torchvision": (
        "https://docs.pytorch.org/vision/stable/",
        {
            f"torchvision.datasets.{n}": ("class", "generated/$.html#$")
            for n in ("CIFAR10", "FashionMNIST", "ImageFolder", "MNIST")
        },
    ),
    "snntorch": (
        "https://snntorch.readthedocs.io/en/latest/",
        {
            "snntorch.surrogate": ("module", "snntorch.surrogate.html#module-$"),
            "snntorch._neurons.leaky.Leaky": ("class", "snn.neurons_leaky.html#$"),
            "snntorch._neurons.synaptic.Synaptic": ("class", "snn.neurons_synaptic.html#$"),
        },
    ),
}


def _inventory(project: str, entries: dict[str, tuple[str, str]]) -> str:
    """Write ``entries`` (name -> (role, address)) as a version-2 Sphinx
    inventory under ``_build/inventories`` and return its path."""
    lines = "".join(
        f"{name} py:{role} 1 {uri.replace('$', name)} -\n" for name, (role, uri) in entries.items()
    )
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        "# Version: \n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    path = HERE / "_build" / "inventories" / f"{project}.inv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.encode() + zlib.compress(lines.encode()))
    return str(path)


intersphinx_mapping = {
    project: (url, _inventory(project, entries)) for project, (url, entries) in EXTERNAL.items()
}


def _documented(cls: type) -> bool:
    """Outside this package, or in its module's ``__all__`` (so on the site)."""
    module = sys.modules.get(cls.__module__)
    if not cls.__module__.startswith("snntorch_bayes"):
        return True
    return cls.__name__ in getattr(module, "__all__", ())


def _public_bases(app, name, obj, options, bases) -> None:
    """``show-inheritance``: an undocumented base (a private mix-in) is shown
    as the bases it stands for, so every base on the site links somewhere."""
    shown: list[type] = []
    pending = list(bases)
    while pending:
        base = pending.pop(0)
        if _documented(base):
            if base not in shown:
                shown.append(base)
        else:
            pending[:0] = [b for b in base.__bases__ if b is not object]
    bases[:] = shown


def _no_foreign_docstring(app, what, name, obj, options, lines) -> None:
    """A method that inherits its docstring from torch or snnTorch (an
    undocumented ``forward``) is listed by its signature only: that text
    speaks of their classes, not ours."""
    if what not in ("method", "attribute", "property"):
        return
    owner_name, _, attr = name.rpartition(".")
    module_name, _, class_name = owner_name.rpartition(".")
    owner = getattr(sys.modules.get(module_name), class_name, None)
    for cls in getattr(owner, "__mro__", ()):
        member = cls.__dict__.get(attr)
        if member is not None and getattr(member, "__doc__", None):
            if not cls.__module__.startswith("snntorch_bayes"):
                lines.clear()
            return


def setup(app):
    app.connect("autodoc-process-docstring", _no_foreign_docstring)
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("builder-inited", _copy_tutorials)
    app.connect("builder-inited", _copy_results)
