"""The main job is robust (issue 12, "nothing silently wrong, nothing lost"):
every argument and the output folder are checked before anything trains,
results are written atomically seed by seed, Ctrl-C and a diverged run keep
the finished seeds, and a non-finite gradient or parameter stops training."""

from __future__ import annotations

import errno
import json
import os
import re

import pytest
import torch

from snntorch_bayes import cli, datasets, training
from snntorch_bayes.models import FCSpikingNet
from snntorch_bayes.training import train_epoch, train_step
from tests.conftest import SHARED_MNIST

needs_mnist = pytest.mark.skipif(
    not (SHARED_MNIST / "t10k-labels-idx1-ubyte.gz").exists(),
    reason=f"no local MNIST copy at {SHARED_MNIST}",
)

#: the keys of a complete run's file before issue 12 (other code reads them)
OLD_KEYS = ["command", "args", "date", "machine", "processor", "threads", "torch", "snntorch",
            "summary", "results", "deep"]  # fmt: skip
#: a tiny, fast run (with the synthetic data of ``fake_data``)
TINY = ["--no-progress", "--max-batches", "2", "--max-test-batches", "1", "--num-steps", "2",
        "--batch-size", "16", "--mc-samples", "2"]  # fmt: skip


def _tensor_loaders(args, train=64, val=32, test=32):
    """Stand-ins of ``cli._loaders``: random images, the real loaders' shape."""
    g = torch.Generator().manual_seed(0)

    def split(n):
        x = torch.rand(n, 1, 28, 28, generator=g)
        return torch.utils.data.TensorDataset(x, torch.randint(0, 10, (n,), generator=g))

    return (
        torch.utils.data.DataLoader(
            split(train), args.batch_size, shuffle=True, drop_last=True, generator=torch.Generator()
        ),
        torch.utils.data.DataLoader(split(val), batch_size=1000),
        torch.utils.data.DataLoader(split(test), batch_size=1000),
    )


def _deep_data(limit=None, root=None, local_copy=None):
    """Stand-in of ``deep.load_fashion_mnist``: 256 random flat images per split."""
    g = torch.Generator().manual_seed(1)
    return {
        k: (torch.rand(256, 784, generator=g), torch.randint(0, 10, (256,), generator=g))
        for k in ("train", "val", "test")
    }


@pytest.fixture
def fake_data(monkeypatch):
    """Synthetic MNIST and Fashion-MNIST, so that these tests need no copy
    and take well under a second of training each."""
    monkeypatch.setattr(cli, "_loaders", _tensor_loaders)
    monkeypatch.setattr(cli.deep, "load_fashion_mnist", _deep_data)


@pytest.fixture
def no_run(monkeypatch):
    """Fail the test if the job gets as far as loading data."""

    def refuse(*args):
        raise AssertionError("reached the data loading: an argument was not checked")

    monkeypatch.setattr(cli, "_main", refuse)


def _error(argv, capsys) -> str:
    """The parser's message for ``argv``, which must exit with status 2."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "usage:" in err
    return err


# --------------------------------------------------------------------------
# 1. Every argument, before anything runs
# --------------------------------------------------------------------------

BAD_ARGUMENTS = [
    (["--max-batches", "-1"], r"--max-batches must be >= 1 \(leave it out for no cap\), got -1"),
    (["--max-batches", "0"], r"--max-batches must be >= 1 .*, got 0"),
    (["--max-test-batches", "0"], r"--max-test-batches must be >= 1 .*, got 0"),
    (["--deep-max-steps", "0"], r"--deep-max-steps must be >= 1 .*, got 0"),
    (["--deep-limit", "100"], r"--deep-limit must be >= 128 .*, got 100"),
    (["--lr", "inf"], r"--lr must be a finite number > 0, got inf"),
    (["--lr", "nan"], r"--lr must be > 0, got nan"),
    (["--lr", "-0.1"], r"--lr must be > 0, got -0.1"),
    (
        ["--posterior-std", "1e30"],
        r"--posterior-std must be in \[1e-30, 1e\+15\], "
        r"got 1e\+30",
    ),
    (["--posterior-std", "inf"], r"--posterior-std must be in \[1e-30, 1e\+15\].*got inf"),
    (["--posterior-std", "1e-40"], r"--posterior-std must be in .*, got 1e-40"),
    (["--posterior-std", "nan"], r"--posterior-std must be in .*, got nan"),
    (["--posterior-std", "0"], r"--posterior-std must be in .*, got 0.0"),
    (["--scale", "inf"], r"--scale must be in \(0, inf\), got inf"),
    (["--scale", "nan"], r"--scale must be in \(0, inf\), got nan"),
    (["--scale", "0"], r"--scale must be in \(0, inf\), got 0.0"),
    (["--scale", "1e-35"], r"--scale must be in \[1e-30, inf\) .*, got 1e-35"),
    (
        ["--estimator", "gumbel_rao", "--noise", "gaussian"],
        r"--noise must be logistic for --estimator gumbel_rao .*, got --noise gaussian",
    ),
    (
        ["--estimator", "gumbel_rao", "--p", "0.5"],
        r"--p is the exponent of iw_st; --estimator gumbel_rao does not take it .*got --p 0.5",
    ),
    (
        ["--estimator", "straight_through", "--p", "1"],
        r"--estimator straight_through does not take it \(leave --p out\), got --p 1.0",
    ),
    (["--tau", "0.5"], r"--tau is the temperature of gumbel_rao; --estimator iw_st does not"),
    (["--estimator", "straight_through", "--tau", "1"], r"straight_through does not take it"),
    (["--estimator", "gumbel_rao", "--tau", "2"], r"--tau must be in \(0, 1\], got 2.0"),
    (["--estimator", "gumbel_rao", "--tau", "nan"], r"--tau must be in \(0, 1\], got nan"),
    (["--p", "nan"], r"--p must be in \[0, 1\], got nan"),
    (["--p", "-0.5"], r"--p must be in \[0, 1\], got -0.5"),
    (["--num-steps", "0"], r"--num-steps must be >= 1, got 0"),
    (["--epochs", "-2"], r"--epochs must be >= 1, got -2"),
    (["--batch-size", "0"], r"--batch-size must be >= 1, got 0"),
    (["--mc-samples", "-1"], r"--mc-samples must be >= 1, got -1"),
    (["--deep-depth", "0"], r"--deep-depth must be >= 1, got 0"),
    (["--deep-width", "0"], r"--deep-width must be >= 1, got 0"),
    (["--deep-epochs", "0"], r"--deep-epochs must be >= 1, got 0"),
    (["--seeds", "0", "-1"], r"--seeds must be integers in \[0, 2\*\*64 - 1\], got -1"),
    (["--seeds", str(2**64)], r"--seeds must be integers in \[0, 2\*\*64 - 1\], got 1844"),
    (["--seeds", "1", "1"], r"--seeds must be distinct .*, got 1 1"),
    (["--deep-seeds", "-3"], r"--deep-seeds must be integers in .*, got -3"),
    (["--seeds", "1.5"], r"argument --seeds: invalid int value: '1.5'"),
]


@pytest.mark.parametrize(
    "argv, message", BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS]
)
def test_bad_arguments_stop_before_anything_runs(argv, message, tmp_path, no_run, capsys):
    out = tmp_path / "out"
    err = _error([*argv, "--out", str(out)], capsys)
    assert re.search(message, err), err
    assert not out.exists()  # checked before the output folder is made


@pytest.mark.parametrize(
    "argv, p, tau, noise",
    [
        ([], 1.0, 1.0, "logistic"),
        (["--p", "0.5", "--noise", "gaussian"], 0.5, 1.0, "gaussian"),
        (
            ["--estimator", "gumbel_rao", "--tau", "0.5", "--noise", "logistic"],
            1.0,
            0.5,
            "logistic",
        ),
        (["--estimator", "straight_through", "--noise", "gaussian"], 1.0, 1.0, "gaussian"),
    ],
)
def test_good_estimator_options_parse_with_the_old_defaults(argv, p, tau, noise):
    _, args = cli._parse(argv)
    assert (args.p, args.tau, args.noise) == (p, tau, noise)


# --------------------------------------------------------------------------
# The output folder and name, before anything runs
# --------------------------------------------------------------------------


def test_out_that_is_an_existing_file_fails_at_once(tmp_path, no_run, capsys):
    existing = tmp_path / "file"
    existing.write_text("keep me")
    err = _error(["--out", str(existing)], capsys)
    assert f"--out must be a folder, got '{existing}', an existing file" in err
    err = _error(["--out", str(existing / "below")], capsys)
    assert f"--out must be a folder this process can create, got '{existing / 'below'}'" in err
    assert existing.read_text() == "keep me"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_out_fails_at_once(tmp_path, no_run, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        err = _error(["--out", str(locked)], capsys)
        assert f"--out must be a writable folder, got '{locked}'" in err
        err = _error(["--out", str(locked / "new")], capsys)
        assert "--out must be a folder this process can create" in err
    finally:
        locked.chmod(0o755)


def test_unwritable_out_fails_at_once_and_leaves_no_folder(tmp_path, no_run, monkeypatch, capsys):
    """As root (which writes anywhere) a read-only folder is simulated: the
    test file the check writes is refused."""
    out = tmp_path / "a" / "b"
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if str(path).startswith(str(out)):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    err = _error(["--out", str(out)], capsys)
    assert f"--out must be a writable folder, got '{out}' (Permission denied)" in err
    assert not (tmp_path / "a").exists()  # the folders it made are removed again


@pytest.mark.parametrize(
    "name, why",
    [
        ("a/b", r"no folder part"),
        ("../up", r"no folder part"),
        ("a\\b", r"no folder part"),
        ("", r"not empty, '\.' or '\.\.'"),
        (".", r"not empty"),
        ("..", r"not empty"),
        ("tab\there", r"no control characters"),
        ("results.json", r"without the \.json suffix"),
    ],
)
def test_a_name_that_is_not_a_plain_file_stem_fails_at_once(name, why, tmp_path, no_run, capsys):
    out = tmp_path / "out"
    err = _error(["--out", str(out), "--name", name], capsys)
    assert re.search(
        rf"--name must be a plain file stem \({why}.*\), got {re.escape(repr(name))}", err
    )
    assert not out.exists()


def test_a_name_too_long_for_the_folder_fails_at_once(tmp_path, no_run, capsys):
    out = tmp_path / "out"
    err = _error(["--out", str(out), "--name", "x" * 240], capsys)
    assert f"--name is too long for a file name in '{out}'" in err
    assert not out.exists()


def test_batch_larger_than_the_training_split_fails_before_training(tmp_path, fake_data, capsys):
    out = tmp_path / "new"
    err = _error([*TINY, "--batch-size", "65", "--out", str(out)], capsys)
    assert "--batch-size must be in [1, 64] (the size of the training split), got 65" in err
    assert not out.exists()


@needs_mnist
def test_batch_larger_than_the_real_training_split(tmp_path, capsys):
    argv = ["--no-progress", "--no-deep", "--batch-size", "55001", "--out", str(tmp_path),
            "--data-root", str(tmp_path / "data"), "--mnist-dir", str(SHARED_MNIST)]  # fmt: skip
    err = _error(argv, capsys)
    assert "--batch-size must be in [1, 55000] (the size of the training split), got 55001" in err


def test_missing_data_leaves_no_new_output_folder(tmp_path, monkeypatch, capsys):
    def missing(args):
        raise datasets.DatasetNotFoundError("MNIST not found (test)")

    monkeypatch.setattr(cli, "_loaders", missing)
    code = cli.main(["--out", str(tmp_path / "a" / "b"), "--no-progress"])
    assert code == 2 and "MNIST not found" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


# --------------------------------------------------------------------------
# 2. Nothing lost: seed by seed, atomically; Ctrl-C and divergence
# --------------------------------------------------------------------------


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_complete_run_writes_after_every_seed_and_keeps_the_format(
    tmp_path, fake_data, monkeypatch, capsys
):
    path = tmp_path / "run.json"
    seen = []
    run_seed, deep_rows = cli._run_seed, cli._deep_rows

    def checked_run_seed(seed, *args):
        on_disk = json.loads(path.read_text()) if path.exists() else None
        seen.append(("seed", seed, on_disk and (on_disk["complete"], on_disk["finished_seeds"])))
        return run_seed(seed, *args)

    def checked_deep_rows(args, data, seed):
        on_disk = json.loads(path.read_text())
        seen.append(("deep", seed, (on_disk["complete"], on_disk["finished_deep_seeds"])))
        assert len(on_disk["results"]) == 2 * 3  # every tutorial-5 row is already saved
        return deep_rows(args, data, seed)

    monkeypatch.setattr(cli, "_run_seed", checked_run_seed)
    monkeypatch.setattr(cli, "_deep_rows", checked_deep_rows)
    argv = [*TINY, "--no-sbnn", "--seeds", "0", "1", "--deep-seeds", "3", "4", "--deep-depth", "1",
            "--deep-width", "8", "--deep-max-steps", "2", "--out", str(tmp_path),
            "--name", "run"]  # fmt: skip
    assert cli.main(argv) == 0
    assert seen == [
        ("seed", 0, None), ("seed", 1, (False, [0])),
        ("deep", 3, (False, [])), ("deep", 4, (False, [3])),
    ]  # fmt: skip
    saved = json.loads(path.read_text())
    assert list(saved) == [*OLD_KEYS, "complete"] and saved["complete"] is True
    assert sorted({r["seed"] for r in saved["results"]}) == [0, 1]
    assert [r["seed"] for r in saved["deep"]] == [3] * 6 + [4] * 6
    assert saved["args"]["p"] == 1.0 and saved["args"]["tau"] == 1.0  # as before issue 12
    assert (tmp_path / "run.png").stat().st_size > 0
    assert (tmp_path / "run-reliability.png").stat().st_size > 0
    assert _leftovers(tmp_path) == []
    assert f"results saved to {path}" in capsys.readouterr().out


def _interrupt_at(monkeypatch, name, seed):
    """Ctrl-C when ``cli.<name>`` (``_run_seed`` or ``_deep_rows``) starts ``seed``."""
    original = getattr(cli, name)
    position = {"_run_seed": 0, "_deep_rows": 2}[name]

    def run(*args):
        if args[position] == seed:
            raise KeyboardInterrupt
        return original(*args)

    monkeypatch.setattr(cli, name, run)


def test_ctrl_c_keeps_the_finished_seeds_and_exits_130(tmp_path, fake_data, monkeypatch, capsys):
    _interrupt_at(monkeypatch, "_run_seed", 1)
    out = tmp_path / "out"
    argv = [*TINY, "--no-deep", "--seeds", "0", "1", "2", "--out", str(out), "--name", "cut"]
    assert cli.main(argv) == 130
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    path = out / "cut.json"
    (line,) = captured.err.splitlines()
    assert line == (
        f"interrupted: seed(s) 0 of 0 1 2 finished and are saved in {path} "
        '(marked "complete": false)'
    )
    saved = json.loads(path.read_text())
    assert saved["complete"] is False and saved["finished_seeds"] == [0]
    assert saved["finished_deep_seeds"] == [] and saved["deep"] == []
    assert [r["method"] for r in saved["results"]] == [
        "fast_sigmoid(25)", "fast_sigmoid(25) + temperature", "iw_st",
        "SBNN (posterior mean)", "SBNN (MC, K=2)",
    ]  # fmt: skip
    assert {r["seed"] for r in saved["results"]} == {0}
    assert [s["seeds"] for s in saved["summary"]] == [[0]] * 5
    assert not list(out.glob("*.png")) and _leftovers(out) == []


def test_ctrl_c_in_the_deep_table_keeps_every_tutorial_seed(
    tmp_path, fake_data, monkeypatch, capsys
):
    _interrupt_at(monkeypatch, "_deep_rows", 0)
    argv = [*TINY, "--no-sbnn", "--seeds", "0", "1", "--deep-depth", "1", "--deep-width", "8",
            "--deep-max-steps", "2", "--out", str(tmp_path), "--name", "cut"]  # fmt: skip
    assert cli.main(argv) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "interrupted: seed(s) 0 1 of 0 1 finished (deep: none of 0) and are saved in" in err
    saved = json.loads((tmp_path / "cut.json").read_text())
    assert saved["complete"] is False and saved["finished_seeds"] == [0, 1]
    assert len(saved["results"]) == 2 * 3 and saved["deep"] == []


def test_ctrl_c_before_any_seed_finished_writes_nothing(tmp_path, fake_data, monkeypatch, capsys):
    _interrupt_at(monkeypatch, "_run_seed", 0)
    out = tmp_path / "new"
    assert cli.main([*TINY, "--no-deep", "--seeds", "0", "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert err == "interrupted: no seed had finished, nothing was written\n"
    assert not out.exists()


def test_a_diverged_run_keeps_the_finished_seeds_and_exits_1(
    tmp_path, fake_data, monkeypatch, capsys
):
    run = cli._run

    def diverge(name, make, seed, args, loaders):
        if seed == 1 and name == "iw_st":
            raise FloatingPointError("non-finite loss nan at step 0")
        return run(name, make, seed, args, loaders)

    monkeypatch.setattr(cli, "_run", diverge)
    argv = [*TINY, "--no-deep", "--no-sbnn", "--seeds", "0", "1", "--out", str(tmp_path)]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert (
        "error: training diverged (iw_st seed 1: non-finite loss nan at step 0); seed(s) 0" in err
    )
    (path,) = tmp_path.glob("tutorial5-*.json")
    saved = json.loads(path.read_text())
    assert saved["finished_seeds"] == [0] and {r["seed"] for r in saved["results"]} == {0}


def test_a_nan_pixel_stops_the_job_with_the_gradient_named(tmp_path, monkeypatch, capsys):
    def poisoned(args):
        loaders = _tensor_loaders(args)
        loaders[0].dataset.tensors[0][3, 0, 14, 14] = float("nan")
        return loaders

    monkeypatch.setattr(cli, "_loaders", poisoned)
    argv = [*TINY, "--no-deep", "--seeds", "0", "--max-batches", "4", "--out", str(tmp_path)]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert re.search(
        r"error: training diverged \(fast_sigmoid\(25\) seed 0: non-finite gradient of "
        r"fc1.weight \(\d+ of 784000 entries\) at step \d\); no seed had finished",
        err,
    ), err
    assert list(tmp_path.iterdir()) == []


def test_results_are_replaced_atomically(tmp_path, monkeypatch):
    path = tmp_path / "r.json"
    path.write_text("old")

    def broken(f):
        f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cli._atomic_write(path, broken)
    assert path.read_text() == "old" and _leftovers(tmp_path) == []
    cli._atomic_write(path, lambda f: f.write(b"new"))
    assert path.read_text() == "new" and _leftovers(tmp_path) == []
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # like a plain write


# --------------------------------------------------------------------------
# 3. train_step: non-finite gradients and parameters
# --------------------------------------------------------------------------


def _net_and_batch():
    net = FCSpikingNet(num_hidden=8, num_steps=2)
    data = torch.rand(4, 1, 28, 28)
    return net, data, torch.tensor([0, 1, 2, 3])


def test_a_nan_pixel_is_caught_in_the_gradient_before_any_update():
    net, data, targets = _net_and_batch()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    data[1, 0, 5, 5] = float("nan")
    _, mem = net(data)
    assert torch.isfinite(training.membrane_ce_loss(mem, targets))  # the loss hides it
    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(
        FloatingPointError, match=r"non-finite gradient of fc1.weight \(6272 of 6272 entries\)"
    ):
        train_step(net, data, targets, opt)
    assert all(torch.equal(a, p) for a, p in zip(before, net.parameters(), strict=True))
    assert all(p.grad is None for p in net.parameters())  # nothing left to step with
    assert not opt.state  # Adam never stepped


def test_train_epoch_names_the_step_of_a_non_finite_gradient():
    net, data, targets = _net_and_batch()
    bad = data.clone()
    bad[0, 0, 0, 0] = float("inf")
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(FloatingPointError, match=r"non-finite gradient of fc1.weight .* at step 2"):
        train_epoch(net, [(data, targets), (data, targets), (bad, targets)], opt, progress=False)


def test_a_step_that_makes_a_parameter_non_finite_is_reported():
    net, data, targets = _net_and_batch()

    class Overflow(torch.optim.SGD):
        def step(self, closure=None):
            super().step(closure)
            with torch.no_grad():
                net.fc2.bias[3] = float("inf")

    with pytest.raises(
        FloatingPointError,
        match=r"non-finite parameter fc2.bias after the optimiser step \(1 of 10 entries\)",
    ):
        train_step(net, data, targets, Overflow(net.parameters(), lr=0.1))


def test_finite_steps_are_unchanged_and_huge_finite_values_pass():
    net, data, targets = _net_and_batch()
    twin = FCSpikingNet(num_hidden=8, num_steps=2)
    twin.load_state_dict(net.state_dict())
    opt, opt_twin = (torch.optim.Adam(n.parameters(), lr=1e-2) for n in (net, twin))
    loss = train_step(net, data, targets, opt)
    _, mem = twin(data)  # the same step by hand
    expected = training.membrane_ce_loss(mem, targets)
    opt_twin.zero_grad()
    expected.backward()
    opt_twin.step()
    assert torch.equal(loss, expected.detach())
    for a, b in zip(net.parameters(), twin.parameters(), strict=True):
        assert torch.equal(a, b)
    # the 2-norm of these overflows float32: confirmed finite entry by entry
    huge = torch.full((1000,), 3e38)
    assert training._first_non_finite([huge, torch.zeros(0), torch.ones(3)]) is None
    nan = torch.tensor([1.0, float("nan")])
    assert training._first_non_finite([huge, torch.zeros(0), nan]) == 2
    assert training._first_non_finite([]) is None


def test_guarded_step_calls_before_step_only_with_finite_gradients():
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    opt = torch.optim.SGD([w], lr=0.5)
    norms = []
    training.guarded_step((w**2).sum(), opt, before_step=lambda: norms.append(w.grad.clone()))
    torch.testing.assert_close(norms[0], torch.tensor([2.0, 4.0]))
    torch.testing.assert_close(w.detach(), torch.tensor([0.0, 0.0]))
    bad = w.sqrt().sum()  # d sqrt(w) / dw = inf at w = 0, the loss is finite
    with pytest.raises(
        FloatingPointError, match=r"non-finite gradient of an optimiser parameter of shape \(2,\)"
    ):
        training.guarded_step(bad, opt, before_step=lambda: norms.append(None))
    assert len(norms) == 1 and w.grad is None
