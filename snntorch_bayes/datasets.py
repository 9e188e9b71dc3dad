r"""Real datasets, from torchvision's download or from a local copy.

Online, these loaders behave like torchvision's (``download=True``).  Offline
(e.g. on a build machine without internet) they take a *local copy*: a folder
holding the four idx files, gzipped or not, as distributed by the dataset's
authors.  The copy is decompressed into ``root/<ClassName>/raw/``, where
torchvision finds it and attempts no download.  A local copy is given by
argument or by environment variable:

======================== ================================ =====================
dataset                  local copy variable              loader
======================== ================================ =====================
MNIST                    ``SNNTORCH_BAYES_MNIST``         :func:`mnist`
Fashion-MNIST            ``SNNTORCH_BAYES_FASHION_MNIST`` :func:`fashion_mnist`
======================== ================================ =====================

The data root defaults to ``$SNNTORCH_BAYES_DATA``, else ``./data``.
Nothing ever falls back to synthetic data: if neither a local copy nor a
download works, the error says where it looked and how to provide the data.

Example::

    >>> from snntorch_bayes import datasets
    >>> train = datasets.mnist(train=True)  # doctest: +SKIP
    >>> len(train)  # doctest: +SKIP
    60000
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

__all__ = ["DatasetNotFoundError", "data_root", "fashion_mnist", "mnist"]

_IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
# (magic number, item count) each file must declare in its header
_IDX_HEADERS = {
    "train-images-idx3-ubyte": (2051, 60000),
    "train-labels-idx1-ubyte": (2049, 60000),
    "t10k-images-idx3-ubyte": (2051, 10000),
    "t10k-labels-idx1-ubyte": (2049, 10000),
}


class DatasetNotFoundError(RuntimeError):
    """No local copy was found and the download failed."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder datasets are stored in: ``root``, else
    ``$SNNTORCH_BAYES_DATA``, else ``./data``."""
    return Path(root or os.environ.get("SNNTORCH_BAYES_DATA") or "data")


def _read_header(path: Path) -> tuple[int, int]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        head = f.read(8)
    if len(head) < 8:
        raise ValueError(f"{path} is too short to be an idx file")
    return int.from_bytes(head[:4], "big"), int.from_bytes(head[4:8], "big")


def _install_local_copy(source: Path, raw: Path) -> None:
    """Decompress (or copy) the four idx files of ``source`` into ``raw``,
    checking each file's idx header first."""
    found = {}
    for name in _IDX_FILES:
        for candidate in (source / name, source / f"{name}.gz"):
            if candidate.is_file():
                found[name] = candidate
                break
    missing = [n for n in _IDX_FILES if n not in found]
    if missing:
        raise DatasetNotFoundError(
            f"the local copy {source} lacks {', '.join(missing)} (gzipped or not)"
        )
    for name, path in found.items():
        header = _read_header(path)
        if header != _IDX_HEADERS[name]:
            raise DatasetNotFoundError(
                f"{path} has idx header (magic, count) = {header}, expected "
                f"{_IDX_HEADERS[name]}: not the file its name says"
            )
    raw.mkdir(parents=True, exist_ok=True)
    for name, path in found.items():
        target = raw / name
        tmp = target.with_suffix(".partial")
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        tmp.replace(target)


def _load(cls_name: str, env_var: str, root, train, transform, local_copy, download):
    import torchvision

    cls = getattr(torchvision.datasets, cls_name)
    if transform is None:
        transform = torchvision.transforms.ToTensor()
    root = data_root(root)
    raw = root / cls_name / "raw"
    local = local_copy or os.environ.get(env_var)
    have_raw = all((raw / n).is_file() for n in _IDX_FILES)
    if not have_raw and local:
        source = Path(local)
        if not source.is_dir():
            raise DatasetNotFoundError(
                f"{env_var if not local_copy else 'local_copy'} points to {source}, "
                "which is not a folder"
            )
        _install_local_copy(source, raw)
        have_raw = True
    if have_raw:
        return cls(str(root), train=train, transform=transform, download=False)
    if download:
        try:
            return cls(str(root), train=train, transform=transform, download=True)
        except Exception as err:  # network errors come in many types
            reason = f"the download failed ({type(err).__name__}: {err})"
    else:
        reason = "download=False"
    raise DatasetNotFoundError(
        f"{cls_name} not found: looked for the idx files in {raw.resolve()}, no "
        f"local copy was given (argument local_copy or ${env_var}), and {reason}. "
        f"Provide it with {env_var}=/path/to/folder-with-idx-files (gzipped or "
        "not), or run once with internet access."
    )


def mnist(
    root: str | os.PathLike | None = None,
    train: bool = True,
    transform=None,
    local_copy: str | os.PathLike | None = None,
    download: bool = True,
):
    """MNIST as a :class:`torchvision.datasets.MNIST`.

    :param root: data root (see :func:`data_root`)
    :param train: the 60k training split, else the 10k test split
    :param transform: torchvision transform; defaults to ``ToTensor()``
    :param local_copy: folder with the idx files; defaults to
        ``$SNNTORCH_BAYES_MNIST``
    :param download: try torchvision's download if no copy is present
    :raises DatasetNotFoundError: with where it looked and what to do
    """
    return _load("MNIST", "SNNTORCH_BAYES_MNIST", root, train, transform, local_copy, download)


def fashion_mnist(
    root: str | os.PathLike | None = None,
    train: bool = True,
    transform=None,
    local_copy: str | os.PathLike | None = None,
    download: bool = True,
):
    """Fashion-MNIST as a :class:`torchvision.datasets.FashionMNIST`; the
    arguments are those of :func:`mnist` (local copy variable
    ``$SNNTORCH_BAYES_FASHION_MNIST``)."""
    return _load(
        "FashionMNIST",
        "SNNTORCH_BAYES_FASHION_MNIST",
        root,
        train,
        transform,
        local_copy,
        download,
    )
