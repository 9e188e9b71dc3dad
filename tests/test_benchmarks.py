"""Quick modes of the benchmark scripts.  ``benchmarks/`` is not a package:
its scripts import each other as top-level modules, so the folder goes on
``sys.path`` for these tests."""

from __future__ import annotations

import csv
import importlib
import math
import os
import tempfile
from pathlib import Path

import pytest
import torch

from snntorch_bayes import datasets
from tests.conftest import ROOT, SHARED_MNIST

needs_mnist = pytest.mark.skipif(
    not (SHARED_MNIST / "t10k-labels-idx1-ubyte.gz").exists(),
    reason=f"no local MNIST copy at {SHARED_MNIST}",
)
PROVENANCE = ["date", "machine", "torch", "command"]


@pytest.fixture
def study(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    return importlib.import_module("estimator_study")


def _read(path):
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def _check_exact(out, study) -> None:
    rows = _read(out / "estimator_study_exact.csv")
    assert list(rows[0])[:4] == PROVENANCE
    quick = study.QUICK
    per_network = len(quick["ps"]) + len(quick["taus"])
    assert len(rows) == len(study.NETWORKS) * per_network
    for r in rows:
        assert math.isclose(float(r["mse"]), float(r["bias2"]) + float(r["variance"]), rel_tol=1e-5)
    # one stochastic layer and a squared-error readout: IW-ST(1) is unbiased
    one_layer = next(iter(study.NETWORKS))
    (unbiased,) = [
        r for r in rows if (r["network"], r["family"], r["value"]) == (one_layer, "IW-ST", "1.0")
    ]
    assert float(unbiased["bias2"]) < 1e-20
    eq5 = _read(out / "estimator_study_eq5.csv")
    assert len(eq5) == 2 * len(quick["eq5_ps"]) * len(quick["eq5_grid"])
    # a loss quadratic in the spike: eq. (5) is exact
    assert max(float(r["abs_error"]) for r in eq5 if r["loss"] == "squared error") < 1e-12
    assert (out / "estimator_study_exact.png").stat().st_size > 0


@needs_mnist
def test_estimator_study_quick(study, tmp_path, capsys):
    threads = torch.get_num_threads()
    out = tmp_path / "out"
    argv = ["--quick", "--out-dir", str(out), "--no-progress"]
    argv += ["--data-root", str(tmp_path / "data"), "--mnist-dir", str(SHARED_MNIST)]
    assert study.main(argv) == 0
    assert torch.get_num_threads() == threads  # --threads is undone
    printed = capsys.readouterr().out
    assert "IW-ST minima" in printed and "membrane acc %" in printed
    _check_exact(out, study)

    names = [m.name for m in study.METHODS]
    summary = _read(out / "estimator_study_training.csv")
    assert list(summary[0])[:4] == PROVENANCE
    assert [r["method"] for r in summary] == names
    for r in summary:
        assert r["seeds"] == "0 1" and r["diverged"] == "0"
        for key in ("spike_accuracy", "membrane_accuracy"):
            assert 0.0 <= float(r[f"{key}_mean"]) <= 1.0
            assert float(r[f"{key}_std"]) >= 0.0
        assert float(r["mean_saturation_mean"]) >= 0.0
    penalty = {r["method"]: r["penalty"] for r in summary}
    assert penalty["ST + penalty"] == "on" and penalty["ST"] == "off"
    assert penalty["fast_sigmoid(25)"] == "n/a"
    assert float(next(r for r in summary if r["method"] == "IW-ST(1)")["mean_penalty_mean"]) == 0

    curves = _read(out / "estimator_study_curves.csv")
    blocks = math.ceil(study.QUICK["steps"] / study.QUICK["curve_every"])
    assert len(curves) == len(names) * 2 * blocks
    assert {"method", "seed", "loss", "penalty", "saturation"} <= set(curves[0])
    assert all(float(r["loss"]) > 0 for r in curves)
    assert (out / "estimator_study_training.png").stat().st_size > 0


def test_estimator_study_quick_never_writes_the_results(study, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where its default goes
    before = {p: p.stat().st_mtime_ns for p in study.RESULTS.glob("estimator_study*")}
    assert study.main(["--quick", "--parts", "exact"]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    out = study.Path(line.split("-> ")[1])
    assert out.parent == tmp_path and out.name.startswith("estimator_study_quick_")
    _check_exact(out, study)
    after = {p: p.stat().st_mtime_ns for p in study.RESULTS.glob("estimator_study*")}
    assert after == before


# --------------------------------------------------------------------------
# depth_sweep.py and full_scale.py (issue 5)
# --------------------------------------------------------------------------

SHARED_DATA = ROOT.parent / "shared" / "data"
needs_fashion_mnist = pytest.mark.skipif(
    not (SHARED_DATA / "fashion-mnist").is_dir(),
    reason=f"no local Fashion-MNIST copy in {SHARED_DATA}",
)
needs_fsdd = pytest.mark.skipif(
    not (SHARED_DATA / "fsdd-recordings.tar.gz").is_file(),
    reason=f"no local FSDD copy in {SHARED_DATA}",
)


def _staged_data(monkeypatch):
    """The benchmarks read data through the loaders' environment variables
    (``scripts/local_data.sh`` sets them); point any unset one at the
    project's staged copy."""
    for env, name in (
        ("SNNTORCH_BAYES_FASHION_MNIST", "fashion-mnist"),
        ("SNNTORCH_BAYES_FSDD", "fsdd-recordings.tar.gz"),
        ("SNNTORCH_BAYES_CIFAR10", "cifar10-jpg.tar.gz"),
    ):
        if not os.environ.get(env) and (SHARED_DATA / name).exists():
            monkeypatch.setenv(env, str(SHARED_DATA / name))


@pytest.fixture
def sweep(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    _staged_data(monkeypatch)
    return importlib.import_module("depth_sweep")


@needs_fashion_mnist
def test_depth_sweep_screen_runs_only_the_named_variants_on_validation(sweep, tmp_path, capsys):
    """``--variants`` / ``--lr`` / ``--twin-spread`` / ``--validation``: only
    those runs, scored on validation, each option in the run's config (so a
    resume tells them apart), into ``depth_sweep_recipe_screen_*``."""
    argv = ["--quick", "--device", "cpu", "--out-dir", str(tmp_path), "--recipe", "--validation"]
    argv += ["--only", "fashion-mnist/binary", "--depths", "2", "--variants", "surrogate"]
    assert sweep.main([*argv, "--twin-spread", "1", "--lr", "surrogate=1e-2"]) == 0
    assert sweep.main([*argv, "--resume"]) == 0  # the recipe's spread and rate: a new run
    runs = _read(tmp_path / "depth_sweep_recipe_screen_runs.csv")
    assert [r["variant"] for r in runs] == ["surrogate", "surrogate"]
    tuned, plain = (r["config"] for r in runs)
    assert "-val" in tuned and "-spread1-lrs(surrogate=0.01)" in tuned
    assert "spread" not in plain and "lrs" not in plain
    assert (tmp_path / "depth_sweep_recipe_screen.png").stat().st_size > 0
    assert [sweep.run_rate(r) for r in runs] == [1e-2, sweep.RECIPE_LR["surrogate"]]
    for bad, why in (("bogus=1", "variant"), ("surrogate=fast", "not a number"), ("SBNN=0", "> 0")):
        with pytest.raises(SystemExit, match=why):
            sweep.main(["--quick", "--out-dir", str(tmp_path), "--lr", bad])


@pytest.fixture
def full_scale(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    _staged_data(monkeypatch)
    return importlib.import_module("full_scale")


@needs_fashion_mnist
def test_depth_sweep_quick(sweep, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where its default goes
    argv = ["--quick", "--device", "cpu", "--data-root", str(tmp_path / "data")]
    assert sweep.main(argv) == 0
    printed = capsys.readouterr().out
    out = sweep.Path(printed.splitlines()[0].split("output: ")[1])
    assert out.parent == tmp_path and out.name.startswith("depth_sweep_")
    assert "| Fashion-MNIST | spiking | SBNN | 2 |" in printed

    runs = _read(out / "depth_sweep_runs.csv")
    assert list(runs[0])[:4] == PROVENANCE
    expected = [
        (s.model, v, d, s_) for s in sweep.QUICK_GRID for d in s.depths
        for s_ in s.seeds for v in sweep.VARIANTS
    ]  # fmt: skip
    assert [(r["model"], r["variant"], int(r["depth"]), int(r["seed"])) for r in runs] == expected
    for r in runs:
        assert 0.0 <= float(r["accuracy"]) <= 1.0 and float(r["nll"]) > 0
        assert float(r["grad_norm_start"]) >= 0 and 0.0 <= float(r["firing_rate"]) <= 1.0
        assert len(r["loss_curve"].split(";")) >= 1 and float(r["seconds"]) > 0
        sbnn = r["variant"] == "SBNN"
        assert math.isfinite(float(r["firing_prob"])) == sbnn
        assert math.isfinite(float(r["accuracy_mc"])) == sbnn
    summary = _read(out / "depth_sweep_summary.csv")
    assert list(summary[0])[:4] == PROVENANCE and len(summary) == len(runs)  # one seed each
    assert (out / "depth_sweep.png").stat().st_size > 0

    # --resume: nothing left to run, the runs are kept
    assert sweep.main(["--quick", "--out-dir", str(out), "--resume", "--device", "cpu"]) == 0
    assert "] fashion-mnist" not in capsys.readouterr().out
    assert _read(out / "depth_sweep_runs.csv") == runs


def test_depth_sweep_same_batches_for_every_variant(sweep):
    first = sweep.batch_order(3, 100, 7, 32)
    assert first.shape == (7, 32) and torch.equal(first, sweep.batch_order(3, 100, 7, 32))
    assert not torch.equal(first, sweep.batch_order(4, 100, 7, 32))
    # every example once per epoch
    assert sorted(first.flatten()[:100].tolist()) == list(range(100))


def _tiny_cifar_copy(folder, per_class):
    from PIL import Image

    for split in ("train", "test"):
        for k, name in enumerate(datasets.CIFAR10_CLASSES):
            (folder / split / name).mkdir(parents=True)
            for i in range(per_class):
                colour = (25 * k, 10 * i, 128)
                Image.new("RGB", (32, 32), colour).save(folder / split / name / f"{i:04d}.jpg")
    return folder


def test_full_scale_tiny_cifar10_binary_resnet(full_scale, tmp_path, monkeypatch, capsys):
    copy = _tiny_cifar_copy(tmp_path / "cifar10-jpg", per_class=7)  # 70 images per split
    monkeypatch.setenv("SNNTORCH_BAYES_CIFAR10", str(copy))
    argv = ["--preset", "cifar10-binary-resnet", "--budget", "tiny", "--device", "cpu"]
    argv += ["--out-dir", str(tmp_path / "out"), "--data-root", str(tmp_path / "data")]
    assert full_scale.main(argv) == 0
    printed = capsys.readouterr().out
    assert "numbers measured on cpu" in printed
    runs = _read(tmp_path / "out" / "full_scale_cifar10-binary-resnet_tiny_recipe_runs.csv")
    assert [r["variant"] for r in runs] == ["SBNN", "surrogate", "surrogate + BatchNorm"]
    assert all(r["device"].startswith("cpu") and r["dataset"] == "cifar10" for r in runs)
    assert all(r["config"].startswith("conv-w8-") for r in runs)
    # the recipe is the default, with the learning rates chosen for CIFAR-10
    assert all("-recipe-init512-lrs(SBNN=0.003," in r["config"] for r in runs)
    plot = tmp_path / "out" / "full_scale_cifar10-binary-resnet_tiny_recipe.png"
    assert plot.stat().st_size > 0


def test_full_scale_recipe_validation_and_learning_rates(full_scale, tmp_path, monkeypatch):
    copy = _tiny_cifar_copy(tmp_path / "cifar10-jpg", per_class=13)  # 64 + 64 held out
    monkeypatch.setenv("SNNTORCH_BAYES_CIFAR10", str(copy))
    argv = ["--preset", "cifar10-binary-resnet", "--budget", "tiny", "--device", "cpu"]
    argv += ["--out-dir", str(tmp_path / "out"), "--data-root", str(tmp_path / "data")]
    argv += ["--recipe", "--validation", "--lr", "SBNN=3e-4", "surrogate + BatchNorm=0.01"]
    assert full_scale.main(argv) == 0
    runs = _read(tmp_path / "out" / "full_scale_cifar10-binary-resnet_tiny_recipe_val_runs.csv")
    assert [r["variant"] for r in runs] == ["SBNN", "surrogate", "surrogate + BatchNorm"]
    config = runs[0]["config"]
    assert "-val64-recipe-init512-lrs(SBNN=0.0003,surrogate + BatchNorm=0.01)-" in config
    for bad in ("SBNN=0", "nobody=1e-3", "SBNN=x"):
        with pytest.raises(SystemExit):
            full_scale.main([*argv[:-4], "--lr", bad])


def test_setting_learning_rates_and_validation_split(sweep, monkeypatch):
    setting = sweep.Setting(
        "fashion-mnist", "binary", (2,), (0,), steps=1, width=4, block="linear",
        train_size=30, test_size=10, recipe=True, lrs=(("SBNN", 3e-4),), validation=True,
    )  # fmt: skip
    assert setting.learning_rate("SBNN") == 3e-4
    assert setting.learning_rate("surrogate") == sweep.RECIPE_LR["surrogate"]
    order = torch.arange(100)
    monkeypatch.setattr(
        sweep, "load_split", lambda dataset, train, size, root, T: (order[:size], order[:size])
    )
    x_train, _, x_val, _ = sweep._load(setting, None)
    # the validation images are the next ones of the training split's fixed order
    assert x_train.tolist() == list(range(30)) and x_val.tolist() == list(range(30, 40))


@needs_fsdd
def test_full_scale_tiny_fsdd_spiking(full_scale, tmp_path, capsys):
    argv = ["--preset", "fsdd-spiking", "--budget", "tiny", "--device", "cpu"]
    argv += ["--out-dir", str(tmp_path / "out"), "--data-root", str(tmp_path / "data")]
    assert full_scale.main(argv) == 0
    runs = _read(tmp_path / "out" / "full_scale_fsdd-spiking_tiny_recipe_runs.csv")
    assert len(runs) == 3 and all(r["model"] == "spiking" for r in runs)
    assert all("-T5-synaptic-noise0.5-" in r["config"] for r in runs)
    assert 0.0 <= float(runs[0]["firing_prob"]) <= 1.0


def test_full_scale_presets(full_scale):
    full = full_scale.preset_setting("cifar10-binary-resnet", "full", epochs=2)
    assert full.steps == 2 * (50_000 // 128) and full.block == "conv" and full.train_size == 50_000
    cpu = full_scale.preset_setting("fsdd-spiking", "cpu", seeds=[5])
    assert cpu.seeds == (5,) and cpu.model == "spiking" and cpu.block == "linear"
    with pytest.raises(SystemExit, match="--epochs"):
        full_scale.preset_setting("fsdd-spiking", "cpu", epochs=3)


@needs_fashion_mnist
def test_population_readout_quick(monkeypatch, tmp_path, capsys):
    """Every method is tuned on validation and scored on the test set once,
    for its chosen step; the runs and the summary carry the provenance."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    _staged_data(monkeypatch)
    readout = importlib.import_module("population_readout")
    methods = ["fast_sigmoid", "SBNN"]
    argv = ["--quick", "--out-dir", str(tmp_path), "--methods", *methods]
    assert readout.main(argv) == 0
    runs = _read(tmp_path / "population_readout_runs.csv")
    summary = _read(tmp_path / "population_readout_summary.csv")
    assert list(runs[0])[:4] == list(summary[0])[:4] == PROVENANCE
    assert [r["method"] for r in summary] == methods
    for entry in summary:
        mine = [r for r in runs if r["method"] == entry["method"]]
        assert len(mine) == 2  # the quick grid: two steps, one seed
        best = max(mine, key=lambda r: float(r["val_accuracy"]))
        assert entry["lr"] == best["lr"]
        assert 0 <= float(entry["test_accuracy"]) <= 1
    assert math.isnan(float(summary[0]["test_avg_accuracy"]))  # no model average of a twin
    assert 0 <= float(summary[1]["test_avg_accuracy"]) <= 1
    assert (tmp_path / "population_readout.png").stat().st_size > 0


@needs_fashion_mnist
@pytest.mark.parametrize("variants", [False, True])
def test_calibration_probe_quick(monkeypatch, tmp_path, capsys, variants):
    """Each row carries its ECE floor; the variant screen reads validation
    only and runs every variant."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    _staged_data(monkeypatch)
    probe = importlib.import_module("calibration_probe")
    argv = ["--quick", "--out-dir", str(tmp_path)] + (["--variants"] if variants else [])
    assert probe.main(argv) == 0
    name = "calibration_probe_variants.csv" if variants else "calibration_probe.csv"
    rows = _read(tmp_path / name)
    assert list(rows[0])[:4] == PROVENANCE
    if variants:
        assert sorted({r["variant"] for r in rows}) == sorted(probe.VARIANTS)
        assert len(rows) == 2 * len(probe.VARIANTS)
    for r in rows:
        assert 0 <= float(r["ece_floor"]) <= 1 and float(r["ece_floor_std"]) >= 0


def test_ece_floor_is_the_ece_of_labels_drawn_from_the_predictions(monkeypatch):
    """A perfectly calibrated predictor's ECE shrinks with the number of
    examples; one-hot predictions are calibrated exactly (floor 0)."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    probe = importlib.import_module("calibration_probe")
    g = torch.Generator().manual_seed(3)
    probs = torch.randn(8000, 10, generator=g, dtype=torch.float64).mul(2).softmax(-1)
    small, _ = probe.ece_floor(probs[:500], draws=10)
    large, spread = probe.ece_floor(probs, draws=10)
    assert 0 < large < small and spread > 0
    # about sqrt(bins / n) in scale: 15 bins, 8000 examples
    assert large < 3 * math.sqrt(15 / 8000)
    one_hot = torch.eye(10, dtype=torch.float64)[torch.arange(100) % 10]
    assert probe.ece_floor(one_hot, draws=3) == (0.0, 0.0)


# --------------------------------------------------------------------------
# run_all.py: the one command behind every results table and plot
# --------------------------------------------------------------------------


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    return importlib.import_module("run_all")


def test_runner_lists_every_benchmark_script(runner):
    scripts = {p.stem for p in (ROOT / "benchmarks").glob("*.py")} - {"_results", "run_all"}
    listed = {Path(b.argv[0]).stem for b in runner.BENCHMARKS if b.argv[0].endswith(".py")}
    # full_scale is the GPU path, run on its own (see its docstring)
    assert scripts - listed == {"full_scale"}
    assert all(b.outputs for b in runner.BENCHMARKS)


def test_runner_quick_writes_every_output_and_reports_failures(runner, tmp_path, capsys):
    cheap = ["estimator_table", "plot_estimators", "lrt_fusion"]
    assert runner.main(["--quick", "--only", *cheap, "--out-dir", str(tmp_path)]) == 0
    for b in runner.BENCHMARKS:
        if b.name in cheap:
            assert all((tmp_path / name).stat().st_size > 0 for name in b.outputs)
    for name in ("estimator_table.csv", "lrt_fusion.csv"):
        assert list(_read(tmp_path / name)[0])[:4] == PROVENANCE
    printed = capsys.readouterr().out
    assert all(f"{name:<18} ok" in printed for name in cheap)

    broken = runner.Benchmark("broken", ("-c", "import sys; sys.exit(3)"), ("never.csv",))
    ok, _, why = runner.run(broken, tmp_path, quick=True)
    assert not ok and why == "exit status 3"
    silent = runner.Benchmark("silent", ("-c", "pass"), ("never.csv",))
    ok, _, why = runner.run(silent, tmp_path, quick=True)
    assert not ok and why.startswith("did not write never.csv")


def test_sbnn_recipe_study_specs(monkeypatch):
    """Each ``--study`` item maps onto one ``deep.train_run`` option."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    recipe = importlib.import_module("sbnn_recipe")
    config = recipe.study_config("kl=0.03,samples=4,noise=0.25")
    assert config["elbo"] == {"kl_scale": 0.03} and config["train_samples"] == 4
    assert config["init"] == {"noise_ratio": 0.25} and config["method"] == "sbnn"
    with pytest.raises(ValueError, match="unknown study item"):
        recipe.study_config("bogus=1")


def test_device_option_and_the_device_column(monkeypatch, tmp_path, capsys):
    """``--device`` resolves as the benchmarks document it, and every
    ``sbnn_step_time`` row names the device it ran on."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    results = importlib.import_module("_results")
    step_time = importlib.import_module("sbnn_step_time")
    want = "cuda" if torch.cuda.is_available() else "cpu"
    assert results.resolve_device("auto").type == want
    assert results.resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match="no CUDA device"):
            results.resolve_device("cuda")
    assert step_time.main(["--quick", "--device", "cpu", "--out-dir", str(tmp_path)]) == 0
    rows = _read(tmp_path / "sbnn_step_time.csv")
    assert {r["device"] for r in rows} == {results.device_name(torch.device("cpu"))}
    assert "device: cpu" in capsys.readouterr().out


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_peak_cuda_rise_counts_what_a_step_allocates(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    results = importlib.import_module("_results")
    device = torch.device("cuda")
    rise = results.peak_cuda_rise_mib(lambda: torch.empty(2**20, device=device), 1, device)
    assert 3.9 < rise < 4.1  # 2**20 float32 values


def test_population_readout_epochs_extend_the_same_first_pass(monkeypatch):
    """``epochs=E`` trains on E seeded shuffles, the first being the one-pass
    run's, so ``--epochs 1`` reproduces the committed results."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    readout = importlib.import_module("population_readout")
    seen = {}

    def fake_fit(net, optimizer, batches, loss_fn, **kwargs):
        seen[len(seen)] = [b.clone() for b in batches]

    monkeypatch.setattr(readout.sb.training, "fit", fake_fit)
    g = torch.Generator().manual_seed(0)
    data = {"train": (torch.rand(300, 1, 28, 28, generator=g), torch.randint(0, 10, (300,)))}
    for epochs in (1, 2):
        readout.train("fast_sigmoid", 1e-3, 5, data, 64, epochs)
    one, two = seen[0], seen[1]
    assert len(one) == 2 and len(two) == 4 and all(len(b) == 128 for b in two)
    assert all(torch.equal(a, b) for a, b in zip(one, two[:2], strict=True))
    assert not torch.equal(torch.cat(two[:2]), torch.cat(two[2:]))
    with pytest.raises(SystemExit):
        readout.main(["--epochs", "0"])


def test_minor_faults_count_fresh_pages(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    results = importlib.import_module("_results")
    # 64 MiB is above glibc's largest mmap threshold: each call maps fresh pages
    fresh = results.minor_faults_per_step(lambda: bytearray(64 * 2**20), 3)
    idle = results.minor_faults_per_step(lambda: None, 3)
    assert fresh > 10 and idle < 5


def test_run_rate_reads_every_way_a_config_names_the_step(sweep):
    row = {"variant": "surrogate + BatchNorm"}
    config = (
        "linear-w8-steps2-bs32-n256-val128-recipe-init512"
        "-lrs(SBNN=3e-05,surrogate + BatchNorm=1e-05)-mc2"
    )
    assert sweep.run_rate({**row, "config": config}) == 1e-05
    assert sweep.run_rate({"variant": "SBNN", "config": config}) == 3e-05
    plain = "linear-w8-steps2-bs32-n256-test128-lr0.001-mc2"
    assert sweep.run_rate({**row, "config": plain}) == 0.001
    recipe = plain.replace("-lr0.001", "-recipe-init512")
    assert sweep.run_rate({**row, "config": recipe}) == sweep.RECIPE_LR["surrogate + BatchNorm"]
