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

Nothing is silently wrong and nothing is left half-installed: a copy that is
truncated, corrupt, or not the dataset it claims to be raises
:class:`DatasetCorruptError` (a :class:`DatasetNotFoundError`) naming the
file and what is wrong, and every installation (idx files, the CIFAR-10
archive, the FSDD recordings) is staged in a temporary folder beside its
target that is renamed into place only once complete and removed on any
error.  MNIST and Fashion-MNIST files are checked against the official MD5
checksums (see :func:`mnist`).

Example::

    >>> from snntorch_bayes import datasets
    >>> train = datasets.mnist(train=True)  # doctest: +SKIP
    >>> len(train)  # doctest: +SKIP
    60000
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import struct
import tarfile
import tempfile
import urllib.request
import wave
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from snntorch_bayes.audio import encode_audio, resample

__all__ = [
    "CIFAR10_CLASSES",
    "FSDD_URL",
    "IDX_MD5",
    "CIFAR10Images",
    "DatasetCorruptError",
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
# the full shape each file must declare (its magic says unsigned bytes)
_IDX_SHAPES = {
    "train-images-idx3-ubyte": (60000, 28, 28),
    "train-labels-idx1-ubyte": (60000,),
    "t10k-images-idx3-ubyte": (10000, 28, 28),
    "t10k-labels-idx1-ubyte": (10000,),
}
# idx dtype codes (third byte of the magic number): name, bytes per item
_IDX_DTYPES = {
    0x08: ("unsigned byte", 1),
    0x09: ("signed byte", 1),
    0x0B: ("int16", 2),
    0x0C: ("int32", 4),
    0x0D: ("float32", 4),
    0x0E: ("float64", 8),
}
#: MD5 checksums of the *uncompressed* idx files, per torchvision class name.
#: MNIST's are the canonical files' (LeCun & Cortes); Fashion-MNIST's are of
#: the files inside Zalando's published ``.gz`` archives.  Checking the
#: uncompressed content means a re-gzipped copy, or one stored uncompressed,
#: passes as long as its content is the official one.
IDX_MD5 = {
    "MNIST": {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    "FashionMNIST": {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
}
_TITLES = {"MNIST": "MNIST", "FashionMNIST": "Fashion-MNIST"}
_GZIP_MAGIC = b"\x1f\x8b"
# what a truncated or corrupt archive raises while it is read
_ARCHIVE_ERRORS = (tarfile.TarError, OSError, EOFError, zlib.error)
# MD5 digests of installed idx files already checked by this process, by
# (path, size, inode, modification time): loading train then test hashes once
_VERIFIED: dict[tuple[str, int, int, int], str] = {}


class DatasetNotFoundError(RuntimeError):
    """No usable copy of the dataset was found (none present, the download
    failed, or the copy present is unusable)."""


class DatasetCorruptError(DatasetNotFoundError):
    """A copy of the dataset was found but is truncated, corrupt, or not the
    dataset it claims to be; the message names the file and what is wrong."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder datasets are stored in: ``root``, else
    ``$SNNTORCH_BAYES_DATA``, else ``./data``."""
    return Path(root or os.environ.get("SNNTORCH_BAYES_DATA") or "data")


@contextmanager
def _staging(target: Path) -> Iterator[Path]:
    """A fresh temporary folder beside ``target`` (so that the final rename
    stays on one file system), removed when the block ends, however it ends,
    together with the folders above it that were created for it and stayed
    empty."""
    created = []
    parent = target.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{target.name}.partial-", dir=target.parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for parent in created:  # deepest first; one that holds anything stays
            try:
                parent.rmdir()
            except OSError:
                break


# --------------------------------------------------------------------------
# MNIST and Fashion-MNIST: idx files, checked, then torchvision's classes
# --------------------------------------------------------------------------


def _open_idx(path: Path):
    """``path`` opened for reading its idx bytes: decompressed if it is named
    ``.gz`` (which it must then be), as is otherwise."""
    if path.suffix != ".gz":
        return open(path, "rb")
    with open(path, "rb") as f:
        start = f.read(2)
    if start != _GZIP_MAGIC:
        raise DatasetCorruptError(
            f"{path} is named .gz but is not gzip-compressed (it starts with {start!r}, "
            f"not {_GZIP_MAGIC!r}): a corrupt copy, or an uncompressed file misnamed "
            "(then drop the .gz)"
        )
    return gzip.open(path, "rb")


def _unreadable(path: Path, err: BaseException) -> DatasetCorruptError:
    kind = "gzip file" if path.suffix == ".gz" else "file"
    return DatasetCorruptError(
        f"{path} is not a complete {kind} ({type(err).__name__}: {err}): the copy is "
        "truncated or corrupt; copy it again from the original"
    )


def _describe_magic(magic: int) -> str:
    dtype = _IDX_DTYPES.get((magic >> 8) & 0xFF)
    if magic >> 16 or dtype is None:
        return f"magic {magic:#010x} is no idx magic number"
    return f"magic {magic:#010x}: {dtype[0]} data in {magic & 0xFF} dimensions"


def _check_head(path: Path, name: str, head: bytes) -> None:
    """``head``, the first bytes of ``path`` (decompressed), must be the idx
    magic number and item count of ``name``."""
    if len(head) < 8:
        raise DatasetCorruptError(
            f"{path} is too short to be an idx file ({len(head)} bytes; the header alone "
            "is at least 8)"
        )
    header = (int.from_bytes(head[:4], "big"), int.from_bytes(head[4:8], "big"))
    if header != _IDX_HEADERS[name]:
        hint = " (it looks gzip-compressed: name it .gz)" if head[:2] == _GZIP_MAGIC else ""
        raise DatasetCorruptError(
            f"{path} has idx header (magic, count) = {header}, expected "
            f"{_IDX_HEADERS[name]}: not the file its name says ({_describe_magic(header[0])}; "
            f"expected {_describe_magic(_IDX_HEADERS[name][0])}){hint}"
        )


def _check_header(path: Path, name: str) -> None:
    """:func:`_check_head` on the first 8 bytes of ``path``."""
    try:
        with _open_idx(path) as f:
            head = f.read(8)
    except (OSError, EOFError, zlib.error) as err:
        raise _unreadable(path, err) from None
    _check_head(path, name, head)


def _check_layout(path: Path, name: str, head: bytes, size: int) -> None:
    """The idx file ``path`` (for ``name``), whose first bytes are ``head``
    and whose uncompressed length is ``size``, must declare ``name``'s shape
    and hold exactly the data that shape needs."""
    shape = _IDX_SHAPES[name]
    header_size = 4 + 4 * len(shape)
    _check_head(path, name, head)
    magic = int.from_bytes(head[:4], "big")
    if len(head) < header_size:
        raise DatasetCorruptError(
            f"{path} is truncated inside its idx header ({size} bytes; a {len(shape)}-D "
            f"header is {header_size})"
        )
    declared = tuple(int.from_bytes(head[i : i + 4], "big") for i in range(4, header_size, 4))
    if declared != shape:
        raise DatasetCorruptError(f"{path} declares the shape {declared}, expected {shape}")
    payload = int(np.prod(shape)) * _IDX_DTYPES[(magic >> 8) & 0xFF][1]
    held = size - header_size
    if held < payload:
        raise DatasetCorruptError(
            f"{path} is truncated: its header declares {shape}, {payload:,} bytes of data, "
            f"but it holds {held:,}; copy it again from the original"
        )
    if held > payload:
        raise DatasetCorruptError(
            f"{path} has {held - payload:,} bytes after the {payload:,} bytes of data its "
            f"header declares {shape}: not an intact idx file"
        )


def _copy_idx(path: Path, name: str, target: Path | None) -> str:
    """Check the idx file ``path`` (gzipped or not) for ``name`` and return
    the MD5 of its uncompressed content, streaming that content into
    ``target`` (unless None)."""
    digest = hashlib.md5(usedforsecurity=False)
    head = b""
    size = 0
    out = open(target, "wb") if target is not None else None
    try:
        with _open_idx(path) as src:
            while chunk := src.read(1 << 20):
                if len(head) < 16:
                    head += chunk[: 16 - len(head)]
                digest.update(chunk)
                size += len(chunk)
                if out is not None:
                    out.write(chunk)
    except (OSError, EOFError, zlib.error) as err:
        raise _unreadable(path, err) from None
    finally:
        if out is not None:
            out.close()
    _check_layout(path, name, head, size)
    return digest.hexdigest()


def _check_md5(path: Path, name: str, digest: str, cls_name: str) -> None:
    """``digest``, the MD5 of ``path``'s content, must be the official one of
    ``cls_name``'s file ``name``; a mismatch says which file it is instead,
    if it is another official one."""
    expected = IDX_MD5[cls_name][name]
    if digest == expected:
        return
    title = _TITLES[cls_name]
    for other_cls, files in IDX_MD5.items():
        for other_name, other_digest in files.items():
            if digest == other_digest:
                other = _TITLES[other_cls]
                looks = f": this looks like {other}, not {title}" if other != title else ""
                raise DatasetCorruptError(
                    f"{path} is {other}'s {other_name}, not {title}'s {name} (its MD5 "
                    f"{digest} is that file's){looks}"
                )
    raise DatasetCorruptError(
        f"{path} has MD5 {digest} (of its uncompressed content), not the official {title} "
        f"{name}'s {expected}: the copy is corrupt or re-encoded. Copy it again from the "
        "original, or pass verify=False to use a legitimately re-encoded copy"
    )


def _install_local_copy(source: Path, raw: Path, cls_name: str, verify: bool = True) -> None:
    """Decompress (or copy) the four idx files of ``source`` into ``raw``:
    each file's idx header, layout and (if ``verify``) MD5 are checked first,
    and ``raw`` receives the files only once all four passed."""
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
        _check_header(path, name)
    with _staging(raw) as staging:
        digests = {}
        for name, path in found.items():
            digests[name] = _copy_idx(path, name, staging / name)
            if verify:
                _check_md5(path, name, digests[name], cls_name)
        raw.mkdir(parents=True, exist_ok=True)
        for name in _IDX_FILES:
            os.replace(staging / name, raw / name)
            (raw / f"{name}.partial").unlink(missing_ok=True)  # left by older versions
            if verify:
                _VERIFIED[_stat_key(raw / name)] = digests[name]


def _stat_key(path: Path) -> tuple[str, int, int, int]:
    """What identifies a file's version: path, size, inode, modification time."""
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_ino, stat.st_mtime_ns


def _check_installed(raw: Path, cls_name: str, verify: bool) -> None:
    """The idx files installed in ``raw`` must have the right layout and (if
    ``verify``) checksums; the MD5 of an unchanged file is computed once per
    process."""
    try:
        for name in _IDX_FILES:
            path = raw / name
            key = _stat_key(path)
            if verify and key not in _VERIFIED:
                _check_md5(path, name, _copy_idx(path, name, None), cls_name)
                _VERIFIED[key] = IDX_MD5[cls_name][name]
                continue
            with open(path, "rb") as f:
                head = f.read(16)
            _check_layout(path, name, head, key[1])
            if verify:
                _check_md5(path, name, _VERIFIED[key], cls_name)
    except DatasetCorruptError as err:
        raise DatasetCorruptError(
            f"{err}. The installed copy in {raw} is unusable: delete that folder and "
            "install the dataset again (local_copy, its environment variable, or a download)"
        ) from None


def _load(cls_name, env_var, root, train, transform, local_copy, verify, download):
    # ``download`` stays the last argument: the tests wrap this to force it off
    import torchvision

    cls = getattr(torchvision.datasets, cls_name)
    if transform is None:
        transform = torchvision.transforms.ToTensor()
    root = data_root(root)
    raw = root / cls_name / "raw"
    local = local_copy or os.environ.get(env_var)
    have_raw = all((raw / n).is_file() for n in _IDX_FILES)
    if have_raw:
        _check_installed(raw, cls_name, verify)
    elif local:
        source = Path(local)
        if not source.is_dir():
            raise DatasetNotFoundError(
                f"{env_var if not local_copy else 'local_copy'} points to {source}, "
                "which is not a folder"
            )
        _install_local_copy(source, raw, cls_name, verify)
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
    verify: bool = True,
):
    """MNIST as a :class:`torchvision.datasets.MNIST`.

    A local copy is installed only if all four files are intact: each must
    decompress completely (if gzipped), carry the idx header of the file its
    name says (magic number, unsigned-byte data, shape), hold exactly the
    bytes that header declares, and, if ``verify``, have the official MD5
    checksum (:data:`IDX_MD5`).  The checksums are of the *uncompressed*
    files, so a copy stored uncompressed or re-gzipped passes if its content
    is the official one; a file of the other dataset (e.g. MNIST given as
    Fashion-MNIST) is named as such.  Files already installed in
    ``root/MNIST/raw`` are checked in the same way at every load (their MD5
    once per process).

    :param root: data root (see :func:`data_root`)
    :param train: the 60k training split, else the 10k test split
    :param transform: torchvision transform; defaults to ``ToTensor()``
    :param local_copy: folder with the idx files; defaults to
        ``$SNNTORCH_BAYES_MNIST``
    :param download: try torchvision's download if no copy is present
    :param verify: check the MD5 checksums. Pass ``False`` for a
        legitimately re-encoded copy; the idx header and length checks
        still apply. Defaults to True
    :raises DatasetNotFoundError: with where it looked and what to do
    :raises DatasetCorruptError: naming the file of a copy that is truncated,
        corrupt or not MNIST, and what is wrong with it
    """
    return _load(
        "MNIST", "SNNTORCH_BAYES_MNIST", root, train, transform, local_copy, verify, download
    )


def fashion_mnist(
    root: str | os.PathLike | None = None,
    train: bool = True,
    transform=None,
    local_copy: str | os.PathLike | None = None,
    download: bool = True,
    verify: bool = True,
):
    """Fashion-MNIST as a :class:`torchvision.datasets.FashionMNIST`; the
    arguments and checks are those of :func:`mnist` (local copy variable
    ``$SNNTORCH_BAYES_FASHION_MNIST``): MNIST's files given as Fashion-MNIST
    are rejected as "this looks like MNIST, not Fashion-MNIST"."""
    return _load(
        "FashionMNIST",
        "SNNTORCH_BAYES_FASHION_MNIST",
        root,
        train,
        transform,
        local_copy,
        verify,
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
    member can write elsewhere), all or nothing: the members go to a
    temporary folder beside ``target``, renamed to ``target`` once the whole
    archive was read and removed on any error (a truncated or corrupt
    archive raises :class:`DatasetCorruptError`)."""
    shutil.rmtree(target.with_name(target.name + ".partial"), ignore_errors=True)  # old versions'
    with _staging(target) as staging:
        count = 0
        try:
            with tarfile.open(archive) as tar:
                for member in tar:
                    match = _CIFAR_MEMBER.match(member.name)
                    if not member.isfile() or not match or match[2] not in CIFAR10_CLASSES:
                        continue
                    folder = staging / match[1] / match[2]
                    folder.mkdir(parents=True, exist_ok=True)
                    with tar.extractfile(member) as src, open(folder / match[3], "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    count += 1
        except _ARCHIVE_ERRORS as err:
            raise DatasetCorruptError(
                f"could not read the CIFAR-10 copy {archive} ({type(err).__name__}: {err}) "
                f"after {count:,} images: the archive is truncated or corrupt, nothing was "
                "installed; copy it again from the original"
            ) from None
        if count == 0:
            raise DatasetNotFoundError(
                f"{archive} holds no CIFAR-10 images ({{train,test}}/<class>/<name>.jpg)"
            )
        shutil.rmtree(target, ignore_errors=True)
        staging.replace(target)


def _split_folder(source: Path, split: str) -> Path | None:
    """``source/split`` or ``source/<one level>/split``, if it exists."""
    for candidate in (source / split, *sorted(source.glob(f"*/{split}"))):
        if candidate.is_dir():
            return candidate
    return None


def _decode_cifar10(folder: Path, fix: str) -> tuple[np.ndarray, list[int]]:
    """Decode every image of an ``ImageFolder`` layout ``folder/<class>/*.jpg``,
    labelled by class *name* (so a copy lacking a class keeps CIFAR-10's
    labels); ``fix`` (what to do about an unreadable image) ends the error
    message."""
    import torchvision

    try:
        images = torchvision.datasets.ImageFolder(str(folder))
    except OSError as err:  # e.g. a class folder without images
        raise DatasetNotFoundError(f"{folder} is no CIFAR-10 split folder ({err})") from None
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
        try:
            array = np.asarray(images.loader(path))
        except (OSError, ValueError, SyntaxError) as err:  # PIL's errors for a bad file
            raise DatasetCorruptError(
                f"{path} is not a readable image ({type(err).__name__}: {err}); {fix}"
            ) from None
        if array.shape != (32, 32, 3):
            raise DatasetCorruptError(f"{path} is {array.shape}, not a 32x32 RGB image; {fix}")
        data[i] = array
        targets.append(label_of[index])
    return data, targets


def _load_cifar10_cache(cache: Path, transform: Callable | None) -> CIFAR10Images:
    try:
        saved = torch.load(cache, weights_only=True)
        return CIFAR10Images(
            saved["data"].numpy(), saved["targets"].tolist(), transform, str(cache)
        )
    except Exception as err:  # unpickling and layout errors come in many types
        raise DatasetCorruptError(
            f"the decoded CIFAR-10 cache {cache} is unreadable ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}); "
            "delete it to decode the JPEGs again"
        ) from None


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
    extracted once into ``root/CIFAR10-JPG/``, all or nothing: a truncated or
    corrupt archive raises :class:`DatasetCorruptError` and leaves no file
    behind.  The images are read with
    :class:`torchvision.datasets.ImageFolder` (the alphabetical class order is
    CIFAR-10's label order; a class is labelled by its name; an unreadable
    image is a :class:`DatasetCorruptError` naming it) and the decoded
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

    Example (offline, with a copy that is not there: the error names it)::

        >>> import tempfile
        >>> from snntorch_bayes import datasets
        >>> with tempfile.TemporaryDirectory() as empty:
        ...     try:
        ...         datasets.cifar10(root=empty, local_copy=f"{empty}/cifar.tar.gz")
        ...     except datasets.DatasetNotFoundError as err:
        ...         print("cifar.tar.gz" in str(err))
        True

    :param root: data root (see :func:`data_root`)
    :param train: the 50k training split, else the 10k test split
    :param transform: torchvision transform; defaults to ``ToTensor()``
    :param local_copy: ``.tar.gz`` or folder of JPEGs; defaults to
        ``$SNNTORCH_BAYES_CIFAR10``
    :param download: try torchvision's download if no copy is present
    :raises DatasetNotFoundError: with where it looked and what to do
    :raises DatasetCorruptError: naming the archive, image or cache that is
        truncated or unreadable
    """
    import torchvision

    if transform is None:
        transform = torchvision.transforms.ToTensor()
    root = data_root(root)
    base = root / _CIFAR_DIR
    split = "train" if train else "test"
    cache = base / f"{split}-uint8.pt"
    if cache.is_file():
        return _load_cifar10_cache(cache, transform)
    folder = _split_folder(base, split) if base.is_dir() else None
    fix = f"delete {base} and extract it again from an intact copy"
    local = local_copy or os.environ.get("SNNTORCH_BAYES_CIFAR10")
    if folder is None and local:
        source = Path(local)
        if source.is_file():
            _extract_cifar10(source, base)
            folder = _split_folder(base, split)
        elif source.is_dir():
            folder = _split_folder(source, split)
            fix = "replace or remove that file in the copy"
        else:
            raise DatasetNotFoundError(
                f"{'local_copy' if local_copy else '$SNNTORCH_BAYES_CIFAR10'} points to "
                f"{source}, which does not exist"
            )
        if folder is None:
            raise DatasetNotFoundError(f"the CIFAR-10 copy {source} has no {split}/ folder")
    if folder is not None:
        data, targets = _decode_cifar10(folder, fix)
        base.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(".partial")
        try:
            torch.save({"data": torch.from_numpy(data), "targets": torch.tensor(targets)}, partial)
            partial.replace(cache)
        finally:
            partial.unlink(missing_ok=True)
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
# the front end's analysis frame (encode_audio's frame_ms): no shorter clip is encoded
_FRAME_SECONDS = 0.025


def _read_wav(path: Path, label: str | None = None) -> tuple[torch.Tensor, int]:
    """The samples of the 16-bit mono WAV file ``path``, scaled to
    ``[-1, 1)``, and its sample rate; a :class:`DatasetCorruptError` naming
    the file (as ``label``, if given) if it is unreadable, truncated, empty
    or in another format."""
    label = label or str(path)
    try:
        with wave.open(str(path), "rb") as f:
            channels, width = f.getnchannels(), f.getsampwidth()
            rate, frames = f.getframerate(), f.getnframes()
            data = f.readframes(frames)
    except (wave.Error, EOFError, OSError, struct.error, ValueError) as err:
        raise DatasetCorruptError(
            f"{label} is not a readable WAV file ({type(err).__name__}: {err}): corrupt, "
            "truncated, or another format"
        ) from None
    if channels != 1 or width != 2:
        raise DatasetCorruptError(
            f"{label} is {channels}-channel {8 * width}-bit audio; FSDD recordings are "
            "16-bit mono WAVs"
        )
    if rate <= 0:
        raise DatasetCorruptError(f"{label} declares the sample rate {rate} Hz")
    if len(data) < 2 * frames:
        raise DatasetCorruptError(
            f"{label} is truncated: its header declares {frames:,} samples, it holds "
            f"{len(data) // 2:,}"
        )
    if frames == 0:
        raise DatasetCorruptError(f"{label} holds no samples")
    samples = np.frombuffer(data, dtype="<i2")
    return torch.from_numpy(samples.astype(np.float32) / 32768.0), rate


def _check_duration(label: str, samples: int, rate: int, target_rate: int) -> None:
    """A clip of ``samples`` at ``rate`` Hz must last, once resampled to
    ``target_rate``, at least one analysis frame of the front end."""
    resampled = -(-samples * target_rate // rate)
    frame = max(2, round(target_rate * _FRAME_SECONDS))
    if resampled < frame:
        raise DatasetCorruptError(
            f"{label} is too short: {samples:,} samples ({1000 * samples / rate:.1f} ms at "
            f"{rate} Hz), less than one {1000 * _FRAME_SECONDS:g} ms analysis frame of the "
            "front end: a truncated recording, not a spoken digit"
        )


def _install_fsdd(source: Path, target: Path, sample_rate: int = 8000) -> None:
    """Copy the WAVs of an FSDD archive (``.tar.gz``) or folder into ``target``,
    all or nothing: they go to a temporary folder beside ``target``, each is
    checked (readable 16-bit mono WAV, at least one analysis frame long at
    ``sample_rate`` once resampled), and the folder becomes ``target`` only
    if every recording passed; it is removed on any error."""
    if not source.exists():
        raise DatasetNotFoundError(f"the FSDD local copy {source} does not exist")
    with _staging(target) as staging:
        origin = {}  # file name -> where it came from, for error messages
        if source.is_file():
            try:
                with tarfile.open(source) as archive:
                    for member in archive:
                        name = Path(member.name).name
                        if member.isfile() and _FSDD_NAME.match(name):
                            with (
                                archive.extractfile(member) as src,
                                open(staging / name, "wb") as dst,
                            ):
                                shutil.copyfileobj(src, dst)  # by base name: no path traversal
                            origin[name] = f"{member.name} in {source}"
            except _ARCHIVE_ERRORS as err:
                raise DatasetCorruptError(
                    f"could not read the FSDD copy {source} ({type(err).__name__}: {err}) "
                    f"after {len(origin):,} recordings: the archive is truncated or corrupt, "
                    "nothing was installed; copy it again from the original"
                ) from None
        else:
            for path in source.rglob("*.wav"):
                if _FSDD_NAME.match(path.name):
                    shutil.copyfile(path, staging / path.name)
                    origin[path.name] = str(path)
        if not origin:
            raise DatasetNotFoundError(f"{source} holds no FSDD recordings (d_speaker_i.wav)")
        for name in sorted(origin):
            waveform, rate = _read_wav(staging / name, origin[name])
            _check_duration(origin[name], waveform.numel(), rate, sample_rate)
        if target.exists():  # it holds no recordings, or nothing would be installed
            shutil.rmtree(target)
        staging.replace(target)


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

    Recordings must be 16-bit mono WAVs.  Each file's sample rate is read
    from its header: one at another rate than :attr:`sample_rate` (8 kHz,
    FSDD's), e.g. a 44.1 kHz re-recording, is resampled to 8 kHz with
    :func:`snntorch_bayes.audio.resample` before encoding, so its events keep
    their real times (one second of audio spans one second of events) and
    its channels their frequencies.  A local copy is installed all or
    nothing, each recording checked first; a recording that is unreadable,
    truncated, in another format, or shorter than one 25 ms analysis frame
    (it is no spoken digit; nothing is padded) raises
    :class:`DatasetCorruptError` naming it, at installation or, for files
    put into the recordings folder by hand, when the item is read.

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
    :raises DatasetNotFoundError: with where it looked and what to do
    :raises DatasetCorruptError: naming a recording, or the archive, that is
        unusable, and why
    """

    #: The front end's sample rate (FSDD's); other rates are resampled to it.
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
                _install_fsdd(Path(local), folder, self.sample_rate)
            elif download:
                try:
                    with tempfile.TemporaryDirectory() as tmp:
                        archive = Path(tmp) / "fsdd.tar.gz"
                        urllib.request.urlretrieve(FSDD_URL, archive)
                        _install_fsdd(archive, folder, self.sample_rate)
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
        waveform, rate = _read_wav(path)
        _check_duration(str(path), waveform.numel(), rate, self.sample_rate)
        if rate != self.sample_rate:
            waveform = resample(waveform, rate, self.sample_rate)
        events = encode_audio(waveform, self.sample_rate, self.num_channels, self.threshold)
        if self.transform is not None:
            events = self.transform(events)
        return events, label
