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
CIFAR-10 (JPEG copy)     ``SNNTORCH_BAYES_CIFAR10``       :func:`cifar10`
Free Spoken Digit        ``SNNTORCH_BAYES_FSDD``          :class:`SpikingFSDD`
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
import re
import shutil
import tarfile
import tempfile
import urllib.request
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from snntorch_bayes.audio import encode_audio

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10Images",
    "DatasetNotFoundError",
    "SpikingFSDD",
    "cifar10",
    "data_root",
    "fashion_mnist",
    "mnist",
]

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


# --------------------------------------------------------------------------
# CIFAR-10: torchvision's download, or a JPEG copy through ImageFolder
# --------------------------------------------------------------------------

#: CIFAR-10's classes in label order (also the alphabetical order of a JPEG
#: copy's class folders).
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
_CIFAR_DIR = "CIFAR10-JPG"
_CIFAR_MEMBER = re.compile(r"^(?:[^/]+/)*(train|test)/([a-z]+)/([A-Za-z0-9_.-]+\.jpe?g)$")


class CIFAR10Images(torch.utils.data.Dataset):
    """CIFAR-10 images held in memory, laid out like
    :class:`torchvision.datasets.CIFAR10`: ``data`` is a uint8 array
    ``[N, 32, 32, 3]``, ``targets`` a list of labels, ``classes`` the class
    names; an item is ``(transform(PIL image), label)``.  Built by
    :func:`cifar10` from a JPEG copy.

    :param data: uint8 images ``[N, 32, 32, 3]``
    :param targets: labels, ``N`` integers in ``[0, 10)``
    :param transform: torchvision transform applied to each PIL image
    :param source: where the images came from (shown in ``repr``)
    """

    def __init__(
        self,
        data: np.ndarray,
        targets: list[int],
        transform: Callable | None = None,
        source: str = "",
    ) -> None:
        if data.dtype != np.uint8 or data.ndim != 4 or data.shape[1:] != (32, 32, 3):
            raise ValueError(f"data must be uint8 [N, 32, 32, 3], got {data.dtype} {data.shape}")
        if len(targets) != len(data):
            raise ValueError(f"{len(data)} images but {len(targets)} targets")
        self.data = data
        self.targets = list(targets)
        self.classes = list(CIFAR10_CLASSES)
        self.transform = transform
        self.source = source

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        from PIL import Image

        image = Image.fromarray(self.data[index])
        if self.transform is not None:
            image = self.transform(image)
        return image, self.targets[index]

    def __repr__(self) -> str:
        return f"CIFAR10Images({len(self)} images from {self.source})"


def _extract_cifar10(archive: Path, target: Path) -> None:
    """Extract the ``{train,test}/<class>/<name>.jpg`` members of ``archive``
    into ``target/{train,test}/<class>/`` (by reconstructed paths, so no
    member can write elsewhere); the folder appears only once complete."""
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    count = 0
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                match = _CIFAR_MEMBER.match(member.name)
                if not member.isfile() or not match or match[2] not in CIFAR10_CLASSES:
                    continue
                folder = partial / match[1] / match[2]
                folder.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(folder / match[3], "wb") as dst:
                    shutil.copyfileobj(src, dst)
                count += 1
    except (tarfile.TarError, OSError) as err:
        shutil.rmtree(partial, ignore_errors=True)
        raise DatasetNotFoundError(
            f"could not read the CIFAR-10 copy {archive} ({type(err).__name__}: {err})"
        ) from None
    if count == 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise DatasetNotFoundError(
            f"{archive} holds no CIFAR-10 images ({{train,test}}/<class>/<name>.jpg)"
        )
    shutil.rmtree(target, ignore_errors=True)
    partial.replace(target)


def _split_folder(source: Path, split: str) -> Path | None:
    """``source/split`` or ``source/<one level>/split``, if it exists."""
    for candidate in (source / split, *sorted(source.glob(f"*/{split}"))):
        if candidate.is_dir():
            return candidate
    return None


def _decode_cifar10(folder: Path) -> tuple[np.ndarray, list[int]]:
    """Decode every image of an ``ImageFolder`` layout ``folder/<class>/*.jpg``,
    labelled by class *name* (so a copy lacking a class keeps CIFAR-10's
    labels)."""
    import torchvision

    images = torchvision.datasets.ImageFolder(str(folder))
    unknown = sorted(set(images.classes) - set(CIFAR10_CLASSES))
    if unknown:
        raise DatasetNotFoundError(
            f"{folder} has class folders {unknown}, which are not CIFAR-10 classes "
            f"{list(CIFAR10_CLASSES)}"
        )
    label_of = [CIFAR10_CLASSES.index(name) for name in images.classes]
    data = np.empty((len(images), 32, 32, 3), dtype=np.uint8)
    targets = []
    for i, (path, index) in enumerate(images.samples):
        array = np.asarray(images.loader(path))
        if array.shape != (32, 32, 3):
            raise DatasetNotFoundError(f"{path} is {array.shape}, not a 32x32 RGB image")
        data[i] = array
        targets.append(label_of[index])
    return data, targets


def cifar10(
    root: str | os.PathLike | None = None,
    train: bool = True,
    transform: Callable | None = None,
    local_copy: str | os.PathLike | None = None,
    download: bool = True,
) -> torch.utils.data.Dataset:
    """CIFAR-10, from a local JPEG copy or torchvision's download.

    A *local copy* (argument or ``$SNNTORCH_BAYES_CIFAR10``) is a ``.tar.gz``
    or a folder holding ``{train,test}/<class>/<name>.jpg`` (directly or one
    level down, e.g. ``cifar10-jpg/train/cat/0001.jpg``).  An archive is
    extracted once into ``root/CIFAR10-JPG/``; the images are read with
    :class:`torchvision.datasets.ImageFolder` (the alphabetical class order is
    CIFAR-10's label order; a class is labelled by its name) and the decoded
    split is cached as ``root/CIFAR10-JPG/{train,test}-uint8.pt``, which later
    calls load in well under a second (decoding 50,000 JPEGs takes tens of
    seconds).  Delete ``root/CIFAR10-JPG`` to rebuild from another copy.  The
    result is a :class:`CIFAR10Images`.

    Without a local copy, the canonical dataset comes from
    :class:`torchvision.datasets.CIFAR10` (``root/cifar-10-batches-py``,
    downloaded if ``download``).  torchvision's class refuses a JPEG copy
    (its checksums are of the pickled batches), hence the two paths.  The
    project's offline copy is JPEG quality 75: report results on it as
    "CIFAR-10 (JPEG copy)".

    Example (offline, with no copy: the error says where it looked)::

        >>> import tempfile
        >>> from snntorch_bayes import datasets
        >>> with tempfile.TemporaryDirectory() as empty:
        ...     try:
        ...         datasets.cifar10(root=empty, local_copy=None, download=False)
        ...     except datasets.DatasetNotFoundError as err:
        ...         print("SNNTORCH_BAYES_CIFAR10" in str(err))
        True

    :param root: data root (see :func:`data_root`)
    :param train: the 50k training split, else the 10k test split
    :param transform: torchvision transform; defaults to ``ToTensor()``
    :param local_copy: ``.tar.gz`` or folder of JPEGs; defaults to
        ``$SNNTORCH_BAYES_CIFAR10``
    :param download: try torchvision's download if no copy is present
    :raises DatasetNotFoundError: with where it looked and what to do
    """
    import torchvision

    if transform is None:
        transform = torchvision.transforms.ToTensor()
    root = data_root(root)
    base = root / _CIFAR_DIR
    split = "train" if train else "test"
    cache = base / f"{split}-uint8.pt"
    if cache.is_file():
        saved = torch.load(cache, weights_only=True)
        return CIFAR10Images(
            saved["data"].numpy(), saved["targets"].tolist(), transform, str(cache)
        )
    folder = _split_folder(base, split) if base.is_dir() else None
    local = local_copy or os.environ.get("SNNTORCH_BAYES_CIFAR10")
    if folder is None and local:
        source = Path(local)
        if source.is_file():
            _extract_cifar10(source, base)
            folder = _split_folder(base, split)
        elif source.is_dir():
            folder = _split_folder(source, split)
        else:
            raise DatasetNotFoundError(
                f"{'local_copy' if local_copy else '$SNNTORCH_BAYES_CIFAR10'} points to "
                f"{source}, which does not exist"
            )
        if folder is None:
            raise DatasetNotFoundError(f"the CIFAR-10 copy {source} has no {split}/ folder")
    if folder is not None:
        data, targets = _decode_cifar10(folder)
        base.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(".partial")
        torch.save({"data": torch.from_numpy(data), "targets": torch.tensor(targets)}, partial)
        partial.replace(cache)
        return CIFAR10Images(data, targets, transform, str(folder))
    canonical = root / "cifar-10-batches-py"
    if download or canonical.is_dir():
        try:
            return torchvision.datasets.CIFAR10(
                str(root), train=train, transform=transform, download=download
            )
        except Exception as err:  # network and integrity errors come in many types
            reason = f"torchvision's CIFAR10 failed ({type(err).__name__}: {err})"
    else:
        reason = "download=False"
    raise DatasetNotFoundError(
        f"CIFAR-10 not found: looked for a decoded cache {cache.resolve()}, JPEGs in "
        f"{(base / split).resolve()} and torchvision's batches in {canonical.resolve()}; no "
        "local copy was given (argument local_copy or $SNNTORCH_BAYES_CIFAR10), and "
        f"{reason}. Provide it with SNNTORCH_BAYES_CIFAR10=/path/to/cifar10-jpg.tar.gz (or a "
        "folder with {train,test}/<class>/*.jpg), or run once with internet access."
    )


# --------------------------------------------------------------------------
# Free Spoken Digit Dataset, spike-encoded
# --------------------------------------------------------------------------

#: The FSDD release the download fetches (its ``recordings/`` folder is used).
FSDD_URL = (
    "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz"
)
_FSDD_NAME = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")


def _install_fsdd(source: Path, target: Path) -> None:
    """Copy the WAVs of an FSDD archive (``.tar.gz``) or folder into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    if source.is_file():
        with tarfile.open(source) as archive:
            for member in archive.getmembers():
                name = Path(member.name).name
                if member.isfile() and _FSDD_NAME.match(name):
                    with archive.extractfile(member) as src, open(target / name, "wb") as dst:
                        shutil.copyfileobj(src, dst)  # by base name: no path traversal
    elif source.is_dir():
        for path in source.rglob("*.wav"):
            if _FSDD_NAME.match(path.name):
                shutil.copyfile(path, target / path.name)
    else:
        raise DatasetNotFoundError(f"the FSDD local copy {source} does not exist")
    if not any(target.glob("*.wav")):
        raise DatasetNotFoundError(f"{source} holds no FSDD recordings (d_speaker_i.wav)")


def _read_wav(path: Path) -> torch.Tensor:
    with wave.open(str(path)) as f:
        if f.getnchannels() != 1 or f.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit mono, got {f.getnchannels()} channels")
        data = np.frombuffer(f.readframes(f.getnframes()), dtype="<i2")
    return torch.from_numpy(data.astype(np.float32) / 32768.0)


class SpikingFSDD(torch.utils.data.Dataset):
    """The Free Spoken Digit Dataset (3,000 recordings of the digits 0-9 by
    six speakers, 8 kHz) encoded as spike events by
    :func:`snntorch_bayes.audio.encode_audio` (mel filterbank, then
    send-on-delta): *spike-encoded FSDD*, a stand-in for spoken-digit spiking
    benchmarks such as SHD, not SHD itself.

    Items are ``(events, label)``: a structured array with fields
    ``t`` (microseconds), ``x`` (channel) and ``p`` (polarity), tonic's audio
    layout, so tonic's transforms apply, e.g.
    ``tonic.transforms.ToFrame(sensor_size=SpikingFSDD.sensor_size(64),
    n_time_bins=50)`` passed as ``transform``.  The split is the official
    one: recordings 0-4 of every speaker and digit are the test set (300),
    5-49 the training set (2,700).

    Example::

        >>> from snntorch_bayes.datasets import SpikingFSDD
        >>> train = SpikingFSDD(train=True)  # doctest: +SKIP
        >>> events, label = train[0]  # doctest: +SKIP

    :param root: data root (see :func:`data_root`); recordings go to
        ``root/FSDD/recordings``
    :param train: the training split, else the test split
    :param transform: applied to each item's events (e.g. a tonic transform)
    :param local_copy: the FSDD ``.tar.gz`` or a folder holding its WAVs;
        defaults to ``$SNNTORCH_BAYES_FSDD``
    :param download: fetch :data:`FSDD_URL` if no copy is present
    :param num_channels: filterbank channels. Defaults to 64
    :param threshold: send-on-delta step, in nats of log energy. Defaults to 0.5
    """

    sample_rate = 8000

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        local_copy: str | os.PathLike | None = None,
        download: bool = True,
        num_channels: int = 64,
        threshold: float = 0.5,
    ) -> None:
        folder = data_root(root) / "FSDD" / "recordings"
        if not any(folder.glob("*.wav")):
            local = local_copy or os.environ.get("SNNTORCH_BAYES_FSDD")
            if local:
                _install_fsdd(Path(local), folder)
            elif download:
                try:
                    with tempfile.TemporaryDirectory() as tmp:
                        archive = Path(tmp) / "fsdd.tar.gz"
                        urllib.request.urlretrieve(FSDD_URL, archive)
                        _install_fsdd(archive, folder)
                except Exception as err:  # network errors come in many types
                    raise DatasetNotFoundError(
                        f"FSDD not found in {folder.resolve()}, no local copy was given "
                        f"(local_copy or $SNNTORCH_BAYES_FSDD), and the download failed "
                        f"({type(err).__name__}: {err}). Provide the recordings with "
                        "SNNTORCH_BAYES_FSDD=/path/to/fsdd-recordings.tar.gz (or a folder)."
                    ) from None
            else:
                raise DatasetNotFoundError(
                    f"FSDD not found in {folder.resolve()} and download=False; set "
                    "SNNTORCH_BAYES_FSDD=/path/to/fsdd-recordings.tar.gz (or a folder)"
                )
        self.files = []
        for path in sorted(folder.glob("*.wav")):
            match = _FSDD_NAME.match(path.name)
            if match and (int(match[3]) >= 5) == train:
                self.files.append((path, int(match[1])))
        self.targets = [label for _, label in self.files]
        self.transform = transform
        self.num_channels = num_channels
        self.threshold = threshold

    @staticmethod
    def sensor_size(num_channels: int = 64) -> tuple[int, int, int]:
        """tonic's ``sensor_size`` of the events: ``(num_channels, 1, 2)``."""
        return (num_channels, 1, 2)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        path, label = self.files[index]
        events = encode_audio(_read_wav(path), self.sample_rate, self.num_channels, self.threshold)
        if self.transform is not None:
            events = self.transform(events)
        return events, label
