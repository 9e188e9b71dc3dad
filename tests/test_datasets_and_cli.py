"""Data loading (local copies, clear errors) and the main job end to end."""

from __future__ import annotations

import gzip
import json
import re

import pytest
import torch

from snntorch_bayes import cli, datasets
from tests.conftest import SHARED_MNIST

needs_mnist = pytest.mark.skipif(
    not (SHARED_MNIST / "t10k-labels-idx1-ubyte.gz").exists(),
    reason=f"no local MNIST copy at {SHARED_MNIST}",
)


def _write_idx(path, magic, count, gz=True):
    payload = magic.to_bytes(4, "big") + count.to_bytes(4, "big")
    if gz:
        with gzip.open(path.with_name(path.name + ".gz"), "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)


def test_missing_data_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("SNNTORCH_BAYES_MNIST", raising=False)
    with pytest.raises(datasets.DatasetNotFoundError) as err:
        datasets.mnist(root=tmp_path, download=False)
    message = str(err.value)
    assert str((tmp_path / "MNIST" / "raw").resolve()) in message
    assert "SNNTORCH_BAYES_MNIST" in message and "download=False" in message


def test_incomplete_or_wrong_local_copy_is_rejected(tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    _write_idx(copy / "train-images-idx3-ubyte", 2051, 60000)
    with pytest.raises(datasets.DatasetNotFoundError, match="lacks train-labels-idx1-ubyte"):
        datasets.mnist(root=tmp_path / "root", local_copy=copy)
    _write_idx(copy / "train-labels-idx1-ubyte", 2049, 60000, gz=False)
    _write_idx(copy / "t10k-images-idx3-ubyte", 2051, 10000)
    _write_idx(copy / "t10k-labels-idx1-ubyte", 2051, 10000)  # images' magic
    with pytest.raises(datasets.DatasetNotFoundError, match=r"expected \(2049, 10000\)"):
        datasets.mnist(root=tmp_path / "root", local_copy=copy)
    with pytest.raises(datasets.DatasetNotFoundError, match="not a folder"):
        datasets.mnist(root=tmp_path / "root", local_copy=tmp_path / "nowhere")


@pytest.fixture(scope="module")
def mnist_root(tmp_path_factory):
    return tmp_path_factory.mktemp("data")


@needs_mnist
def test_local_copy_of_real_mnist_loads(mnist_root):
    train = datasets.mnist(root=mnist_root, train=True, local_copy=SHARED_MNIST)
    test = datasets.mnist(root=mnist_root, train=False, local_copy=SHARED_MNIST)
    assert len(train) == 60000 and len(test) == 10000
    image, label = train[0]
    assert image.shape == (1, 28, 28) and 0.0 <= image.min() and image.max() <= 1.0
    assert label == 5  # the first MNIST training digit
    assert torch.bincount(test.targets).tolist()[:3] == [980, 1135, 1032]


@needs_mnist
def test_main_job_runs_end_to_end(mnist_root, tmp_path, capsys):
    code = cli.main(
        [
            "--max-batches", "3", "--max-test-batches", "1", "--num-steps", "3",
            "--no-progress", "--data-root", str(mnist_root), "--mnist-dir", str(SHARED_MNIST),
            "--out", str(tmp_path), "--seeds", "0", "1", "--mc-samples", "2",
            "--fashion-mnist-dir", str(SHARED_MNIST.parent / "fashion-mnist"),
            "--deep-depth", "2", "--deep-width", "16", "--deep-max-steps", "3",
            "--deep-limit", "300",
        ]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    for name in ("fast_sigmoid(25) + temperature", "iw_st", "SBNN (MC, K=2)", "ECE"):
        assert name in printed
    deep_table = printed[printed.index("3. Deep plain binary network") :]
    assert "2 hidden layers of 16 units" in deep_table and "capped at 3 steps" in deep_table
    for name in ("SBNN (deployed)", "SBNN (model average, K=2)", "fast_sigmoid(25), same init",
                 "fast_sigmoid(25) + BatchNorm + temperature"):  # fmt: skip
        assert name in deep_table
    (result,) = tmp_path.glob("tutorial5-*.json")
    assert result.with_suffix(".png").stat().st_size > 0
    assert (tmp_path / f"{result.stem}-reliability.png").stat().st_size > 0
    saved = json.loads(result.read_text())
    rows = saved["results"]
    per_seed = [
        "fast_sigmoid(25)", "fast_sigmoid(25) + temperature", "iw_st",
        "SBNN (posterior mean)", "SBNN (MC, K=2)",
    ]  # fmt: skip
    assert [(r["method"], r["seed"]) for r in rows] == [
        (name, seed) for seed in (0, 1) for name in per_seed
    ]
    for r in rows:
        assert r["steps"] == 3
        for key in ("test_accuracy", "accuracy", "ece"):
            assert 0.0 <= r[key] <= 1.0
        assert r["nll"] > 0 and 0 <= r["brier"] <= 2
        assert sum(r["reliability"]["counts"]) == 1000  # one test batch
    assert rows[2]["spike_grad"].startswith("IWST(p=1.0")  # the drop-in's --p
    assert rows[3]["spike_grad"].startswith("IWST(p=0.0")  # the SBNN's default neurons
    deep_rows = saved["deep"]
    assert [r["method"] for r in deep_rows] == [
        "SBNN (deployed)", "SBNN (model average, K=2)",
        "fast_sigmoid(25), same init", "fast_sigmoid(25), same init + temperature",
        "fast_sigmoid(25) + BatchNorm", "fast_sigmoid(25) + BatchNorm + temperature",
    ]  # fmt: skip
    for r in deep_rows:
        assert r["steps"] == 3 and 0 <= r["accuracy"] <= 1 and r["nll"] > 0
    assert rows[1]["temperature"] > 0
    # temperature scaling changes neither the accuracy nor the training
    assert rows[1]["accuracy"] == rows[0]["accuracy"]
    summary = {r["method"]: r for r in saved["summary"]}
    fast = summary["fast_sigmoid(25)"]
    assert fast["test_accuracy"] == [rows[0]["test_accuracy"], rows[5]["test_accuracy"]]
    assert fast["step_ratio"] == 1.0 and summary["SBNN (MC, K=2)"]["step_ratio"] > 0


def test_main_job_reports_missing_data(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SNNTORCH_BAYES_MNIST", raising=False)
    monkeypatch.setattr(datasets, "_load", _offline(datasets._load))
    code = cli.main(["--data-root", str(tmp_path), "--no-progress"])
    assert code == 2
    assert "MNIST not found" in capsys.readouterr().err


def _offline(load):
    def wrapped(*args):
        *rest, _download = args  # never reach the network in tests
        return load(*rest, False)

    return wrapped


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--scale", "-1"], r"scale must be in \(0, inf\), got -1.0"),
        (["--p", "2"], r"p must be in \[0, 1\], got 2.0"),
        (["--epochs", "0"], r"--epochs must be >= 1, got 0"),
        (["--lr", "0"], r"--lr must be > 0, got 0.0"),
        (["--mc-samples", "0"], r"--mc-samples must be >= 1, got 0"),
        (["--posterior-std", "-1"], r"--posterior-std must be in \[1e-30, 1e\+15\], got -1.0"),
    ],
)
def test_main_job_rejects_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert re.search(message, capsys.readouterr().err)


# --------------------------------------------------------------------------
# CIFAR-10 from a JPEG copy
# --------------------------------------------------------------------------


def _jpeg(path, colour):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 32), colour).save(path, quality=95)


def _cifar_copy(folder, classes=datasets.CIFAR10_CLASSES, per_class=2):
    """A tiny CIFAR-10 JPEG copy: ``per_class`` solid-colour images per class
    and split, class ``k`` coloured ``(20 k, 255 - 20 k, 7 i)``."""
    for split in ("train", "test"):
        for name in classes:
            k = datasets.CIFAR10_CLASSES.index(name)
            for i in range(per_class if split == "train" else 1):
                _jpeg(
                    folder / "cifar10-jpg" / split / name / f"{i:04d}.jpg",
                    (20 * k, 255 - 20 * k, 7 * i),
                )
    (folder / "cifar10-jpg" / "README.md").write_text("not an image")
    return folder / "cifar10-jpg"


def _tar_gz(folder, archive):
    import tarfile

    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return archive


def test_cifar10_from_a_tar_gz_copy(tmp_path, monkeypatch):
    monkeypatch.delenv("SNNTORCH_BAYES_CIFAR10", raising=False)
    archive = _tar_gz(_cifar_copy(tmp_path / "src"), tmp_path / "cifar10-jpg.tar.gz")
    root = tmp_path / "root"
    train = datasets.cifar10(root=root, train=True, local_copy=archive, download=False)
    test = datasets.cifar10(root=root, train=False, local_copy=archive, download=False)
    assert len(train) == 20 and len(test) == 10
    assert train.classes == list(datasets.CIFAR10_CLASSES)
    # alphabetical folder order is CIFAR-10's label order
    assert train.targets == [k for k in range(10) for _ in range(2)]
    assert train.data.shape == (20, 32, 32, 3) and train.data.dtype.name == "uint8"
    image, label = train[6]
    assert image.shape == (3, 32, 32) and label == 3
    assert torch.allclose(image[:, 16, 16], torch.tensor([60, 195, 0]) / 255, atol=4 / 255)
    # extracted once into the root, decoded once into a cache
    assert (root / "CIFAR10-JPG" / "train" / "cat" / "0000.jpg").is_file()
    assert not (root / "CIFAR10-JPG" / "README.md").exists()
    assert (root / "CIFAR10-JPG" / "train-uint8.pt").is_file()
    again = datasets.cifar10(root=root, train=True, download=False)  # no copy needed now
    assert again.targets == train.targets and (again.data == train.data).all()


def test_cifar10_from_a_folder_named_by_the_environment(tmp_path, monkeypatch):
    folder = _cifar_copy(tmp_path / "src", classes=("cat", "truck"), per_class=1)
    monkeypatch.setenv("SNNTORCH_BAYES_CIFAR10", str(folder))
    test = datasets.cifar10(root=tmp_path / "root", train=False, download=False, transform=None)
    # labelled by class name: a copy lacking classes keeps CIFAR-10's labels
    assert test.targets == [3, 9]
    assert len(test) == 2 and "CIFAR10Images" in repr(test)


def test_cifar10_missing_or_wrong_copy_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("SNNTORCH_BAYES_CIFAR10", raising=False)
    with pytest.raises(datasets.DatasetNotFoundError) as err:
        datasets.cifar10(root=tmp_path, download=False)
    message = str(err.value)
    assert str((tmp_path / "CIFAR10-JPG" / "train").resolve()) in message
    assert "SNNTORCH_BAYES_CIFAR10" in message and "download=False" in message
    with pytest.raises(datasets.DatasetNotFoundError, match="does not exist"):
        datasets.cifar10(root=tmp_path, local_copy=tmp_path / "nowhere", download=False)
    wrong = tmp_path / "wrong"
    _jpeg(wrong / "train" / "kitten" / "0.jpg", (0, 0, 0))
    with pytest.raises(datasets.DatasetNotFoundError, match="not CIFAR-10 classes"):
        datasets.cifar10(root=tmp_path, local_copy=wrong, download=False)
    empty = _tar_gz(tmp_path / "wrong", tmp_path / "empty.tar.gz")  # no {train,test}/<class>
    (tmp_path / "wrong" / "train" / "kitten" / "0.jpg").unlink()
    with pytest.raises(datasets.DatasetNotFoundError, match="holds no CIFAR-10 images"):
        datasets.cifar10(root=tmp_path / "r2", local_copy=empty, download=False)
    assert not any(datasets.data_root(tmp_path / "r2").glob("CIFAR10-JPG*"))


@needs_mnist
def test_main_job_stops_before_training_without_fashion_mnist(tmp_path, capsys):
    """The deep table's data are loaded up front: a bad copy is an error (exit
    code 2) before the tutorial-5 part spends any time.  (A fresh data root: one
    that already holds Fashion-MNIST would not need the copy.)"""
    code = cli.main(
        [
            "--no-progress", "--data-root", str(tmp_path / "data"),
            "--mnist-dir", str(SHARED_MNIST),
            "--out", str(tmp_path), "--fashion-mnist-dir", str(tmp_path / "nowhere"),
        ]
    )  # fmt: skip
    assert code == 2
    captured = capsys.readouterr()
    assert "not a folder" in captured.err and "Tutorial 5" not in captured.out
    assert not list(tmp_path.glob("*.json"))
