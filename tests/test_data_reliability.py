"""Corrupt, partial or wrong local copies of the datasets: every one is a
:class:`~snntorch_bayes.datasets.DatasetCorruptError` (or another
``DatasetNotFoundError``) naming the file and what is wrong, and nothing is
left half-installed.  All inputs are tiny synthetic files; only the checksum
table is checked against the project's real offline copies."""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import re
import tarfile
import wave
from pathlib import Path

import numpy as np
import pytest
import torch

from snntorch_bayes import datasets
from snntorch_bayes.audio import encode_audio, log_mel_features, resample
from tests.conftest import SHARED_MNIST

SHARED = SHARED_MNIST.parent
Corrupt = datasets.DatasetCorruptError

# --------------------------------------------------------------------------
# MNIST / Fashion-MNIST: tiny idx files with a patched layout and checksum table
# --------------------------------------------------------------------------

TINY_SHAPES = {
    "train-images-idx3-ubyte": (6, 2, 2),
    "train-labels-idx1-ubyte": (6,),
    "t10k-images-idx3-ubyte": (4, 2, 2),
    "t10k-labels-idx1-ubyte": (4,),
}


def _idx(shape, data=None, dtype_code=0x08):
    """An idx file's bytes: magic, shape, then ``data`` (default: one byte
    per item, a ramp)."""
    header = bytes([0, 0, dtype_code, len(shape)])
    header += b"".join(n.to_bytes(4, "big") for n in shape)
    if data is None:
        data = bytes(i % 256 for i in range(int(np.prod(shape))))
    return header + data


def _contents(offset):
    """The four tiny files of a fake dataset (``offset`` tells datasets apart)."""
    out = {}
    for name, shape in TINY_SHAPES.items():
        n = int(np.prod(shape))
        values = (np.arange(n) * 7 + offset) % (10 if "labels" in name else 256)
        out[name] = _idx(shape, values.astype(np.uint8).tobytes())
    return out


FAKE = {"MNIST": _contents(0), "FashionMNIST": _contents(3)}


@pytest.fixture
def tiny(monkeypatch):
    """Make tiny idx files the "official" ones: shapes, headers and MD5s."""
    monkeypatch.setattr(datasets, "_IDX_SHAPES", TINY_SHAPES)
    monkeypatch.setattr(
        datasets,
        "_IDX_HEADERS",
        {n: (0x0800 + len(s), s[0]) for n, s in TINY_SHAPES.items()},
    )
    monkeypatch.setattr(
        datasets,
        "IDX_MD5",
        {
            cls: {n: hashlib.md5(b).hexdigest() for n, b in files.items()}
            for cls, files in FAKE.items()
        },
    )
    monkeypatch.setattr(datasets, "_VERIFIED", {})
    for var in ("SNNTORCH_BAYES_MNIST", "SNNTORCH_BAYES_FASHION_MNIST"):
        monkeypatch.delenv(var, raising=False)


def _write_copy(folder, cls="MNIST", gz=True, replace=None):
    """Write a fake dataset's four files (``replace`` maps a name to other
    bytes, written as is, under ``name`` or ``name.gz`` following ``gz``)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, content in FAKE[cls].items():
        path = folder / (f"{name}.gz" if gz else name)
        if replace and name in replace:
            path.write_bytes(replace[name])
        elif gz:
            path.write_bytes(gzip.compress(content, mtime=0))
        else:
            path.write_bytes(content)
        paths[name] = path
    return paths


def _leftovers(root):
    """Everything under ``root`` (which should be nothing, or no folder)."""
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*")) if root.exists() else []


def test_an_intact_tiny_copy_installs_gzipped_or_not(tiny, tmp_path):
    copy = tmp_path / "copy"
    _write_copy(copy, gz=True)
    # an uncompressed file beside the gzipped ones: content-checksummed alike
    (copy / "t10k-labels-idx1-ubyte").write_bytes(FAKE["MNIST"]["t10k-labels-idx1-ubyte"])
    raw = tmp_path / "root" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte.partial").write_bytes(b"left by an older version")
    train = datasets.mnist(root=tmp_path / "root", local_copy=copy, download=False)
    test = datasets.mnist(root=tmp_path / "root", train=False, download=False)
    assert len(train) == 6 and len(test) == 4
    assert train.targets.tolist() == [0, 7, 4, 1, 8, 5]
    assert sorted(p.name for p in raw.iterdir()) == sorted(TINY_SHAPES)
    assert not list((tmp_path / "root").rglob("*partial*"))


def test_a_truncated_gz_names_the_file_and_installs_nothing(tiny, tmp_path):
    good = gzip.compress(FAKE["MNIST"]["train-images-idx3-ubyte"], mtime=0)
    copy = tmp_path / "copy"
    paths = _write_copy(copy, replace={"train-images-idx3-ubyte": good[:-12]})
    root = tmp_path / "root"
    with pytest.raises(Corrupt) as err:
        datasets.mnist(root=root, local_copy=copy, download=False)
    message = str(err.value)
    assert str(paths["train-images-idx3-ubyte"]) in message
    assert "not a complete gzip file" in message and "EOFError" in message
    assert isinstance(err.value, datasets.DatasetNotFoundError)
    assert _leftovers(root) == []  # not even an empty MNIST/raw
    # cut inside the first 8 bytes of data: the header check says the same
    paths["train-images-idx3-ubyte"].write_bytes(good[:12])
    with pytest.raises(Corrupt, match="not a complete gzip file"):
        datasets.mnist(root=root, local_copy=copy, download=False)
    assert _leftovers(root) == []


@pytest.mark.parametrize(
    "content, message",
    [
        (_idx((6, 2, 2)), r"is named \.gz but is not gzip-compressed"),
        (b"<html>404 Not Found</html>", r"is named \.gz but is not gzip-compressed"),
        (b"", r"is named \.gz but is not gzip-compressed"),
        (gzip.compress(b"\x00" * 4000, mtime=0)[:10] + b"\xff" * 40, "not a complete gzip file"),
    ],
    ids=["raw-idx-named-gz", "html", "empty", "corrupt-deflate"],
)
def test_a_non_gzip_or_corrupt_gz_names_the_file(tiny, tmp_path, content, message):
    copy = tmp_path / "copy"
    paths = _write_copy(copy, replace={"train-images-idx3-ubyte": content})
    with pytest.raises(Corrupt, match=message) as err:
        datasets.mnist(root=tmp_path / "root", local_copy=copy, download=False)
    assert str(paths["train-images-idx3-ubyte"]) in str(err.value)
    assert _leftovers(tmp_path / "root") == []


def test_a_corrupt_gz_later_in_the_stream_installs_nothing(tiny, tmp_path):
    data = bytes(np.random.default_rng(0).integers(0, 256, 6 * 2 * 2, dtype=np.uint8))
    content = _idx((6, 2, 2), data)
    packed = bytearray(gzip.compress(content, mtime=0))
    packed[-6] ^= 0xFF  # the CRC / length trailer
    copy = tmp_path / "copy"
    _write_copy(copy, gz=True, replace={"train-images-idx3-ubyte": bytes(packed)})
    with pytest.raises(Corrupt, match=r"train-images-idx3-ubyte\.gz is not a complete gzip"):
        datasets.mnist(root=tmp_path / "root", local_copy=copy, download=False)
    assert _leftovers(tmp_path / "root") == []


@pytest.mark.parametrize(
    "content, message",
    [
        (_idx((6, 2, 2))[:-10], r"is truncated: its header declares \(6, 2, 2\), 24 bytes of "
                                r"data, but it holds 14"),
        (_idx((6, 2, 2)) + b"\x00" * 3, r"has 3 bytes after the 24 bytes of data"),
        (_idx((6, 2, 3)), r"declares the shape \(6, 2, 3\), expected \(6, 2, 2\)"),
        (_idx((6, 2, 2))[:10], r"is truncated inside its idx header \(10 bytes"),
        (_idx((6, 2, 2))[:5], r"too short to be an idx file \(5 bytes"),
        (_idx((6, 2, 2), dtype_code=0x0D),
         r"\(3331, 6\), expected \(2051, 6\).*float32 data in 3 dimensions; expected "
         r"magic 0x00000803: unsigned byte data in 3 dimensions"),
        (b"\x12\x34\x56\x78" + bytes(20), r"magic 0x12345678 is no idx magic number"),
        (_idx((6, 2, 2), dtype_code=0x07), r"magic 0x00000703 is no idx magic number"),
        (gzip.compress(_idx((6, 2, 2)), mtime=0), r"it looks gzip-compressed: name it \.gz"),
    ],
    ids=["short-payload", "trailing", "shape", "cut-header", "tiny", "dtype", "magic",
         "dtype-code", "gzip-unnamed"],
)  # fmt: skip
def test_a_malformed_idx_file_names_the_file_and_the_fault(tiny, tmp_path, content, message):
    copy = tmp_path / "copy"
    paths = _write_copy(copy, gz=False, replace={"train-images-idx3-ubyte": content})
    with pytest.raises(Corrupt, match=message) as err:
        datasets.mnist(root=tmp_path / "root", local_copy=copy, download=False)
    assert str(err.value).startswith(str(paths["train-images-idx3-ubyte"]))
    assert _leftovers(tmp_path / "root") == []
    # gzipped, the same content fails the same way (after decompression)
    _write_copy(copy, gz=True, replace={"train-images-idx3-ubyte": gzip.compress(content)})
    for path in paths.values():
        path.unlink()
    with pytest.raises(Corrupt, match=message):
        datasets.mnist(root=tmp_path / "root", local_copy=copy, download=False)
    assert _leftovers(tmp_path / "root") == []


def test_the_first_bad_file_of_several_is_reported_and_none_installed(tiny, tmp_path):
    """The four headers are checked before anything is written (a wrong
    header, as in the older tests), then all four files in full."""
    copy = tmp_path / "copy"
    paths = _write_copy(copy, replace={"t10k-labels-idx1-ubyte": gzip.compress(_idx((4,))[:-2])})
    with pytest.raises(Corrupt, match=r"t10k-labels-idx1-ubyte\.gz is truncated"):
        datasets.mnist(root=tmp_path / "root", local_copy=copy, download=False)
    assert _leftovers(tmp_path / "root") == []
    assert paths["train-images-idx3-ubyte"].exists()  # the copy itself is left alone


def test_mnist_given_as_fashion_mnist_says_so(tiny, tmp_path):
    copy = tmp_path / "mnist-copy"
    paths = _write_copy(copy, cls="MNIST")
    root = tmp_path / "root"
    with pytest.raises(Corrupt) as err:
        datasets.fashion_mnist(root=root, local_copy=copy, download=False)
    message = str(err.value)
    assert str(paths["train-images-idx3-ubyte"]) in message
    assert "this looks like MNIST, not Fashion-MNIST" in message
    assert _leftovers(root) == []
    # and the other way round
    other = tmp_path / "fashion-copy"
    _write_copy(other, cls="FashionMNIST", gz=False)
    with pytest.raises(Corrupt, match="this looks like Fashion-MNIST, not MNIST"):
        datasets.mnist(root=root, local_copy=other, download=False)
    assert _leftovers(root) == []
    # with the checks off, the user gets what they asked for
    wrong = datasets.fashion_mnist(root=root, local_copy=copy, download=False, verify=False)
    assert wrong.targets.tolist() == [0, 7, 4, 1, 8, 5]


def test_a_checksum_mismatch_can_be_overridden_for_reencoded_copies(tiny, tmp_path):
    changed = bytearray(FAKE["MNIST"]["train-images-idx3-ubyte"])
    changed[-1] ^= 0x01  # one pixel: intact layout, different content
    copy = tmp_path / "copy"
    paths = _write_copy(copy, replace={"train-images-idx3-ubyte": gzip.compress(changed)})
    root = tmp_path / "root"
    with pytest.raises(Corrupt) as err:
        datasets.mnist(root=root, local_copy=copy, download=False)
    message = str(err.value)
    assert str(paths["train-images-idx3-ubyte"]) in message
    assert hashlib.md5(changed).hexdigest() in message and "verify=False" in message
    assert datasets.IDX_MD5["MNIST"]["train-images-idx3-ubyte"] in message
    assert _leftovers(root) == []
    train = datasets.mnist(root=root, local_copy=copy, download=False, verify=False)
    assert int(train.data[-1, -1, -1]) == changed[-1]
    # once installed unverified, a verified load refuses it, and says what to do
    with pytest.raises(Corrupt, match="delete that folder and install the dataset again"):
        datasets.mnist(root=root, download=False)
    datasets.mnist(root=root, download=False, verify=False)


def test_installed_files_are_checked_at_every_load(tiny, tmp_path):
    copy = tmp_path / "copy"
    _write_copy(copy, cls="FashionMNIST")
    root = tmp_path / "root"
    datasets.fashion_mnist(root=root, local_copy=copy, download=False)
    raw = root / "FashionMNIST" / "raw"
    target = raw / "t10k-images-idx3-ubyte"
    target.write_bytes(FAKE["FashionMNIST"]["t10k-images-idx3-ubyte"][:-5])  # truncated
    for verify in (True, False):
        with pytest.raises(
            Corrupt, match=rf"{re.escape(str(target))} is truncated.*delete that folder"
        ):
            datasets.fashion_mnist(root=root, train=False, download=False, verify=verify)
    # replaced by MNIST's file (same size): the checksum tells
    replacement = raw / "new"
    replacement.write_bytes(FAKE["MNIST"]["t10k-images-idx3-ubyte"])
    replacement.replace(target)
    with pytest.raises(Corrupt, match="this looks like MNIST, not Fashion-MNIST"):
        datasets.fashion_mnist(root=root, train=False, download=False)


def test_the_older_header_error_is_kept(tiny, tmp_path):
    copy = tmp_path / "copy"
    _write_copy(copy, replace={"t10k-labels-idx1-ubyte": gzip.compress(_idx((4, 2, 2)))})
    with pytest.raises(datasets.DatasetNotFoundError, match=r"expected \(2049, 4\)"):
        datasets.mnist(root=tmp_path / "root", local_copy=copy, download=False)


def _md5_of_content(path):
    opener = gzip.open if path.suffix == ".gz" else open
    digest = hashlib.md5()
    with opener(path, "rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.mark.parametrize(("cls", "folder"), [("MNIST", "mnist"), ("FashionMNIST", "fashion-mnist")])
def test_the_checksum_table_matches_the_real_offline_copies(cls, folder):
    copy = SHARED / folder
    if not all((copy / f"{name}.gz").is_file() for name in datasets.IDX_MD5[cls]):
        pytest.skip(f"no offline copy of {cls} at {copy}")
    for name, expected in datasets.IDX_MD5[cls].items():
        assert _md5_of_content(copy / f"{name}.gz") == expected, name


def test_the_checksum_table_has_the_published_mnist_values():
    """MNIST's uncompressed MD5s as published (and as the offline copy's
    README lists them); the two datasets share no file."""
    prefixes = {
        "train-images-idx3-ubyte": "6bbc9ace",
        "train-labels-idx1-ubyte": "a25bea73",
        "t10k-images-idx3-ubyte": "2646ac64",
        "t10k-labels-idx1-ubyte": "27ae3e4e",
    }
    for name, prefix in prefixes.items():
        assert datasets.IDX_MD5["MNIST"][name].startswith(prefix)
    digests = [d for files in datasets.IDX_MD5.values() for d in files.values()]
    assert len(set(digests)) == 8 and all(len(d) == 32 for d in digests)


# --------------------------------------------------------------------------
# CIFAR-10 (JPEG copy): all-or-nothing extraction, unreadable images and caches
# --------------------------------------------------------------------------


def _cifar_archive(folder, archive, per_class=2):
    """A tiny CIFAR-10 JPEG copy of noisy images (so the archive does not
    compress to almost nothing), as ``archive`` (.tar.gz)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for name in datasets.CIFAR10_CLASSES:
            for i in range(per_class):
                path = folder / "cifar10-jpg" / split / name / f"{i:04d}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(path, quality=90)
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder / "cifar10-jpg", arcname="cifar10-jpg")
    return archive


@pytest.fixture(scope="module")
def cifar_archive(tmp_path_factory):
    base = tmp_path_factory.mktemp("cifar")
    return _cifar_archive(base / "src", base / "cifar10-jpg.tar.gz")


@pytest.mark.parametrize("cut", [0.15, 0.5, 0.97])
def test_a_truncated_cifar10_archive_leaves_nothing_behind(cifar_archive, tmp_path, cut):
    data = cifar_archive.read_bytes()
    truncated = tmp_path / "cifar10-jpg.tar.gz"
    truncated.write_bytes(data[: int(len(data) * cut)])
    root = tmp_path / "root"
    with pytest.raises(Corrupt) as err:
        datasets.cifar10(root=root, local_copy=truncated, download=False)
    message = str(err.value)
    assert str(truncated) in message and "truncated or corrupt, nothing was installed" in message
    if cut > 0.4:
        images = int(message.split(" after ")[1].split(" images")[0].replace(",", ""))
        assert images > 0  # some were extracted, then removed
    assert _leftovers(root) == []


@pytest.mark.parametrize(
    "mangle",
    [
        lambda d: d[:100] + bytes(b ^ 0x5A for b in d[100:400]) + d[400:],
        lambda d: b"PK\x03\x04 a zip file, not a tar.gz" + d[:50],
        lambda d: gzip.compress(b"not a tar archive at all" * 100),
    ],
    ids=["corrupt-deflate", "not-gzip", "gzip-not-tar"],
)
def test_a_corrupt_cifar10_archive_is_a_clear_error(cifar_archive, tmp_path, mangle):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(mangle(cifar_archive.read_bytes()))
    with pytest.raises(Corrupt, match=r"could not read the CIFAR-10 copy .*bad\.tar\.gz"):
        datasets.cifar10(root=tmp_path / "root", local_copy=bad, download=False)
    assert _leftovers(tmp_path / "root") == []


def test_the_intact_archive_still_installs(cifar_archive, tmp_path):
    root = tmp_path / "root"
    test = datasets.cifar10(root=root, train=False, local_copy=cifar_archive, download=False)
    assert len(test) == 20
    assert sorted(p.name for p in root.iterdir()) == ["CIFAR10-JPG"]
    assert not list(root.rglob("*partial*"))


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_an_unreadable_jpeg_names_the_file(tmp_path, damage):
    from PIL import Image

    folder = tmp_path / "copy"
    for split in ("train", "test"):
        for name in ("cat", "dog"):
            path = folder / split / name / "0000.jpg"
            path.parent.mkdir(parents=True)
            rng = np.random.default_rng(1)
            Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(path)
    bad = folder / "train" / "dog" / "0000.jpg"
    bad.write_bytes(bad.read_bytes()[:300] if damage == "truncate" else b"\x00not a jpeg")
    root = tmp_path / "root"
    with pytest.raises(
        Corrupt, match=rf"{re.escape(str(bad))} is not a readable image .*remove that file"
    ):
        datasets.cifar10(root=root, local_copy=folder, download=False)
    assert not list(root.rglob("*.pt")) and not list(root.rglob("*partial*"))
    assert len(datasets.cifar10(root=root, train=False, local_copy=folder, download=False)) == 2


def test_an_unreadable_cifar10_cache_is_a_clear_error(tmp_path):
    cache = tmp_path / "CIFAR10-JPG" / "train-uint8.pt"
    cache.parent.mkdir()
    cache.write_bytes(b"\x80\x02 truncated pickle")
    with pytest.raises(Corrupt, match=rf"cache {re.escape(str(cache))} is unreadable.*delete it"):
        datasets.cifar10(root=tmp_path, download=False)
    torch.save({"data": torch.zeros(2, 8, 8, 3, dtype=torch.uint8), "targets": torch.zeros(2)},
               cache)  # fmt: skip
    with pytest.raises(Corrupt, match=r"unreadable \(ValueError: data must be uint8"):
        datasets.cifar10(root=tmp_path, download=False)


# --------------------------------------------------------------------------
# FSDD: corrupt, truncated, too short, other formats and other sample rates
# --------------------------------------------------------------------------


def _wav_bytes(samples, rate=8000, channels=1, width=2):
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(width)
        f.setframerate(rate)
        values = np.clip(np.asarray(samples) * 32767, -32768, 32767)
        if width == 2:
            f.writeframes(np.repeat(values, channels).astype("<i2").tobytes())
        else:
            f.writeframes(np.repeat(values / 256 + 128, channels).astype(np.uint8).tobytes())
    return buffer.getvalue()


def _tone(rate, seconds=1.0, frequency=1000.0, onset=0.5):
    """A tone fading in at ``onset`` s (no broadband click)."""
    t = np.arange(round(rate * seconds)) / rate
    return 0.5 * np.sin(2 * math.pi * frequency * t) * np.clip((t - onset) / 0.05, 0, 1)


def _fsdd_folder(folder, extra=None):
    """Two intact recordings (training split) plus ``extra`` {name: bytes}."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "0_alice_5.wav").write_bytes(_wav_bytes(_tone(8000)))
    (folder / "1_bob_7.wav").write_bytes(_wav_bytes(_tone(8000, 0.5, 500, 0.1)))
    for name, content in (extra or {}).items():
        (folder / name).write_bytes(content)
    return folder


def _recordings(root):
    return datasets.data_root(root) / "FSDD" / "recordings"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"RIFF\x00\x00 not a wave file at all", r"is not a readable WAV file \(Error"),
        (_wav_bytes(_tone(8000))[:30], r"is not a readable WAV file \(EOFError"),
        (b"", r"is not a readable WAV file"),
        (_wav_bytes(_tone(8000))[:-4000], r"is truncated: its header declares 8,000 samples, "
                                          r"it holds 6,000"),
        (_wav_bytes(np.zeros(10)), r"is too short: 10 samples \(1\.2 ms at 8000 Hz\), less "
                                   r"than one 25 ms analysis frame"),
        (_wav_bytes(np.zeros(0)), r"holds no samples"),
        (_wav_bytes(_tone(8000), channels=2), r"is 2-channel 16-bit audio; FSDD recordings "
                                              r"are 16-bit mono"),
        (_wav_bytes(_tone(8000), width=1), r"is 1-channel 8-bit audio"),
    ],
    ids=["not-wav", "cut-header", "empty", "truncated", "10-samples", "no-samples", "stereo",
         "8-bit"],
)  # fmt: skip
def test_a_bad_recording_is_rejected_and_nothing_installed(tmp_path, content, message):
    copy = _fsdd_folder(tmp_path / "copy", {"2_carol_9.wav": content})
    root = tmp_path / "root"
    with pytest.raises(Corrupt, match=message) as err:
        datasets.SpikingFSDD(root, local_copy=copy, download=False)
    assert str(err.value).startswith(str(copy / "2_carol_9.wav"))
    assert _leftovers(root) == []
    # from an archive: the message names the member and the archive
    archive = tmp_path / "fsdd.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(copy, arcname="fsdd/recordings")
    with pytest.raises(Corrupt, match=message) as err:
        datasets.SpikingFSDD(root, local_copy=archive, download=False)
    assert str(err.value).startswith(f"fsdd/recordings/2_carol_9.wav in {archive}")
    assert _leftovers(root) == []


@pytest.mark.parametrize("cut", [0.3, 0.8])
def test_a_truncated_fsdd_archive_installs_nothing(tmp_path, cut):
    copy = tmp_path / "copy"
    rng = np.random.default_rng(0)
    for i in range(12):  # noise: the archive stays large
        (copy / f"{i % 10}_dan_{i}.wav").parent.mkdir(exist_ok=True)
        (copy / f"{i % 10}_dan_{i}.wav").write_bytes(_wav_bytes(rng.uniform(-1, 1, 4000)))
    archive = tmp_path / "fsdd.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(copy, arcname="recordings")
    data = archive.read_bytes()
    archive.write_bytes(data[: int(len(data) * cut)])
    root = tmp_path / "root"
    with pytest.raises(
        Corrupt, match=rf"could not read the FSDD copy {re.escape(str(archive))} .*nothing was"
    ):
        datasets.SpikingFSDD(root, local_copy=archive, download=False)
    assert _leftovers(root) == []  # the next call will not take a partial set as complete


def test_a_44_1_khz_recording_is_resampled_to_its_real_duration(tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "3_erin_5.wav").write_bytes(_wav_bytes(_tone(8000)))
    (copy / "3_fred_5.wav").write_bytes(_wav_bytes(_tone(44100), rate=44100))  # same, 44.1 kHz
    fsdd = datasets.SpikingFSDD(tmp_path / "root", local_copy=copy, download=False,
                                num_channels=32)  # fmt: skip
    (native, _), (resampled, label) = fsdd[0], fsdd[1]
    assert label == 3 and native.size > 0 and resampled.size > 0
    for events in (native, resampled):
        assert events["t"].max() <= 1_000_000  # 1 s of audio is 1 s of events, not 5.5
        on = events[events["p"] == 1]
        assert abs(int(on["t"].min()) - 500_000) <= 50_000
    loudest = [np.bincount(e["x"][e["p"] == 1], minlength=32).argmax() for e in (native, resampled)]
    assert abs(int(loudest[0]) - int(loudest[1])) <= 1


def test_bad_files_put_in_by_hand_fail_when_read(tmp_path):
    root = tmp_path / "root"
    datasets.SpikingFSDD(root, local_copy=_fsdd_folder(tmp_path / "copy"), download=False)
    folder = _recordings(root)
    (folder / "4_gina_8.wav").write_bytes(b"garbage")
    (folder / "5_hugo_9.wav").write_bytes(_wav_bytes(np.zeros(10), rate=44100))
    train = datasets.SpikingFSDD(root, download=False)
    names = [p.name for p, _ in train.files]
    with pytest.raises(
        Corrupt, match=rf"{re.escape(str(folder / '4_gina_8.wav'))} is not a readable WAV"
    ):
        train[names.index("4_gina_8.wav")]
    with pytest.raises(Corrupt, match=r"5_hugo_9.wav is too short: 10 samples \(0\.2 ms at 44100"):
        train[names.index("5_hugo_9.wav")]
    assert train[names.index("0_alice_5.wav")][0].size > 0


def test_the_front_end_rejects_a_waveform_shorter_than_a_frame():
    with pytest.raises(ValueError, match=r"10 samples, fewer than one 25 ms frame \(200 samples"):
        log_mel_features(torch.zeros(10), 8000)
    with pytest.raises(ValueError, match="fewer than one"):
        encode_audio(torch.zeros(199), 8000)
    assert encode_audio(torch.zeros(200), 8000).size == 0


# --------------------------------------------------------------------------
# resample
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("orig", "new"), [(44100, 8000), (4000, 8000), (16000, 8000),
                                           (8000, 11025)])  # fmt: skip
def test_resample_keeps_an_in_band_tone_and_the_duration(orig, new):
    frequency = 0.3 * min(orig, new)  # well inside both bands
    n = orig  # one second
    x = torch.sin(2 * math.pi * frequency * torch.arange(n, dtype=torch.float64) / orig)
    y = resample(x, orig, new)
    assert y.dtype == torch.float32 and y.shape == (math.ceil(n * new / orig),)
    exact = torch.sin(2 * math.pi * frequency * torch.arange(len(y), dtype=torch.float64) / new)
    edge = new // 20  # the zero padding beyond the ends
    assert (y[edge:-edge] - exact[edge:-edge]).abs().max() < 2e-3
    dc = resample(torch.ones(n), orig, new)
    assert (dc[edge:-edge] - 1).abs().max() < 2e-3


def test_resample_removes_what_the_new_rate_cannot_hold():
    t = torch.arange(44100, dtype=torch.float64) / 44100
    above = resample(torch.sin(2 * math.pi * 6000 * t), 44100, 8000)  # would alias to 2 kHz
    assert above[400:-400].abs().max() < 1e-3
    assert torch.equal(resample(torch.arange(5.0), 8000, 8000), torch.arange(5.0))
    assert resample(torch.zeros(0), 44100, 8000).numel() == 0
    assert resample(torch.ones(3), 44100, 8000).shape == (1,)


def test_resample_rejects_bad_arguments():
    with pytest.raises(ValueError, match="orig_rate must be a positive integer"):
        resample(torch.zeros(10), 0, 8000)
    with pytest.raises(ValueError, match="new_rate must be a positive integer"):
        resample(torch.zeros(10), 8000, 8000.5)
    with pytest.raises(ValueError, match="1-D"):
        resample(torch.zeros(2, 10), 44100, 8000)
    with pytest.raises(ValueError, match="rolloff"):
        resample(torch.zeros(10), 44100, 8000, rolloff=0)
