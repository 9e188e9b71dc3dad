# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Regression with membrane-potential targets, Bayesian
#
# snnTorch's regression tutorial (part I) trains a leaky integrate-and-fire network so
# that the membrane potential of its output neuron follows a target trajectory over
# time: hidden layers of 128 `Leaky` neurons, an output neuron with its reset disabled
# (`reset_mechanism="none"`) whose spikes are ignored, 50 time steps, the mean-square
# error between membrane and target, Adam 1e-3. Its targets are synthetic ramps. Here the
# same idea meets real data and a question a Bayesian model can answer:
#
# * **Task.** Each MNIST digit is rotated by a known random angle
#   $\vartheta \sim \mathcal U(-45°, 45°)$; the network sees the rotated image and must
#   report the angle. The target for the output membrane is upstream's ramp: it should
#   climb linearly from 0 to $y = \vartheta / 45°$ over the $T$ steps,
#   $U^\ast_t = y\,t/T$, and the prediction is the membrane at the last step. The loss is
#   the MSE between the whole membrane trajectory and the ramp (our own three lines:
#   snnTorch's `SF.mse_membrane_loss` builds one-hot class targets, not real ones).
# * **Models.** A deterministic network (`nn.Linear` + `snn.Leaky`, `fast_sigmoid()`)
#   and its SBNN twin (`BayesLinear` + `VariationalLeaky`, ELBO), with the same shape:
#   784 → 256 `Leaky(beta=0.9)` → 1 non-resetting integrator (`beta=1`), $T = 10$.
# * **What the Bayesian model adds.** A predictive distribution: the mean ± standard
#   deviation of the final membrane over Monte-Carlo passes. We ask whether its
#   intervals are calibrated (empirical coverage of the 50 % and 90 % intervals,
#   Gaussian NLL), against the baseline given the best a deterministic regressor can do
#   without a model of its doubt: one error bar for every input, fitted on held-out data.
#
# Where we differ from upstream: real inputs (rotated digits, not a 1-D ramp as input),
# one hidden layer of 256 instead of two of 128, 10 steps instead of 50, fixed decay
# rates and thresholds (upstream draws them at random and learns the decays), and a
# budget of one pass over 20,000 images so that the run fits in a few minutes on a 2-core
# CPU. `SNNTORCH_BAYES_FAST=1` runs a few batches.

# %%
import math
import os
import time

import matplotlib.pyplot as plt
import snntorch as snn
import torch
import torch.nn.functional as F
from snntorch import surrogate as snn_surrogate
from torch import nn

import snntorch_bayes as sb
from snntorch_bayes import calibration, datasets

FAST = os.environ.get("SNNTORCH_BAYES_FAST") == "1"
NUM_TRAIN = 256 if FAST else 20_000
NUM_VAL = 500 if FAST else 5_000
NUM_TEST = 500 if FAST else 10_000
K = 3 if FAST else 20  # sampled passes of the SBNN
NUM_STEPS, HIDDEN, MAX_ANGLE = 10, 256, 45.0
started = time.perf_counter()

# %% [markdown]
# ## Data: rotated MNIST digits and their angles
#
# Angles are drawn once from seeded generators (training, held-out and test images get
# different ones) and applied with an exact affine resampling of the whole batch.


# %%
def rotated(dataset, indices, seed):
    """Images rotated by random angles (flattened, [N, 784]) and the angles in degrees."""
    images = dataset.data[indices].float().div(255).unsqueeze(1)
    g = torch.Generator().manual_seed(seed)
    angles = (2 * torch.rand(len(images), generator=g) - 1) * MAX_ANGLE
    theta = angles * math.pi / 180
    cos, sin, zero = theta.cos(), theta.sin(), torch.zeros_like(theta)
    affine = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = F.affine_grid(affine, list(images.shape), align_corners=False)
    out = F.grid_sample(images, grid, align_corners=False)
    return out.flatten(1), angles


mnist_train, mnist_test = datasets.mnist(train=True), datasets.mnist(train=False)
x_train, angle_train = rotated(mnist_train, torch.arange(NUM_TRAIN), seed=0)
x_val, angle_val = rotated(mnist_train, torch.arange(60_000 - NUM_VAL, 60_000), seed=1)
x_test, angle_test = rotated(mnist_test, torch.arange(NUM_TEST), seed=2)
digit_test = mnist_test.targets[:NUM_TEST]
print(f"train {len(x_train)}, held out {len(x_val)}, test {len(x_test)}")

fig, axes = plt.subplots(1, 6, figsize=(9, 1.8))
for ax, image, angle in zip(axes, x_test, angle_test, strict=False):
    ax.imshow(image.view(28, 28), cmap="gray")
    ax.set_title(f"{angle:+.0f}°", fontsize=9)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## The networks


# %%
class MembraneRegressor(nn.Module):
    """784 -> 256 Leaky -> 1 integrator; returns the output membrane, [T, B]."""

    def __init__(self, bayes: bool):
        super().__init__()
        if bayes:
            linear, neuron, kwargs = sb.BayesLinear, sb.VariationalLeaky, {}
        else:
            linear, neuron = nn.Linear, snn.Leaky
            kwargs = {"spike_grad": snn_surrogate.fast_sigmoid()}
        self.fc1, self.lif1 = linear(784, HIDDEN), neuron(beta=0.9, **kwargs)
        self.fc2 = linear(HIDDEN, 1)
        self.out = neuron(beta=1.0, reset_mechanism="none", **kwargs)  # spikes unused

    def forward(self, x):
        mem1, mem2 = self.lif1.reset_mem(), self.out.reset_mem()
        cur1 = self.fc1(x)  # constant input: computed once
        mem_rec = []
        for _ in range(NUM_STEPS):
            spk1, mem1 = self.lif1(cur1, mem1)
            _, mem2 = self.out(self.fc2(spk1), mem2)
            mem_rec.append(mem2[:, 0])
        return torch.stack(mem_rec)


RAMP = torch.arange(1, NUM_STEPS + 1) / NUM_STEPS  # target trajectory per unit of y


def membrane_mse(mem_rec, angles):
    """MSE between the membrane trajectory and the ramp to y = angle / 45 degrees."""
    return F.mse_loss(mem_rec, RAMP[:, None] * (angles / MAX_ANGLE))


# %% [markdown]
# ## Training: one pass over 20,000 images, Adam 1e-3, batch 128, the same batches

# %%
nets, curves = {}, {}
for name in ["fast_sigmoid", "SBNN"]:
    torch.manual_seed(0)
    net = MembraneRegressor(bayes=name == "SBNN")
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    elbo = sb.ELBO(num_train=len(x_train)) if name == "SBNN" else None
    order = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(0))
    clock, losses = time.perf_counter(), []
    net.train()
    for batch in order[: len(order) // 128 * 128].split(128):
        mse = membrane_mse(net(x_train[batch]), angle_train[batch])
        loss = elbo(mse, net) if elbo is not None else mse
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(mse.item())
    nets[name], curves[name] = net.eval(), losses
    print(
        f"{name:<14} {time.perf_counter() - clock:5.1f} s, last-20 membrane MSE "
        f"{sum(losses[-20:]) / len(losses[-20:]):.4f}"
    )

plt.figure(figsize=(6, 3.2))
for name, losses in curves.items():
    values = torch.tensor(losses)
    window = min(20, len(values))
    plt.plot(values.unfold(0, window, 1).mean(1), label=name)
plt.yscale("log")
plt.xlabel("training step")
plt.ylabel("membrane MSE (running mean of 20)")
plt.title("Training curves (SBNN: the data term of its ELBO)")
plt.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Predictive distributions
#
# Everything is in degrees from here on (prediction = 45° × final membrane).
#
# * **fast_sigmoid**: one deterministic pass; its error bar $\sigma$ is the RMS error on
#   the 5,000 held-out images, the same for every input (the maximum-likelihood
#   homoscedastic Gaussian).
# * **SBNN, deployed**: posterior means and deterministic thresholds (an ordinary
#   snnTorch network), with an error bar fitted the same way.
# * **SBNN, sampled**: mean and standard deviation of the final membrane over `K`
#   sampled passes, taken as they are.
# * **SBNN, sampled + noise**: the same with a constant noise term added,
#   $\sigma^2 = \sigma^2_\mathrm{MC} + \sigma_0^2$, $\sigma_0$ fitted on the held-out
#   images by minimising the NLL (the sampled spread models what the network does not
#   know, not the noise in the data; this is the regression analogue of temperature
#   scaling).


# %%
@torch.no_grad()
def final_membrane(net, x, sampled):
    """Predicted angles, [N] (deterministic) or [K, N] (sampled passes)."""
    if not sampled:
        return net(x)[-1] * MAX_ANGLE
    return sb.mc_logits(lambda: net(x)[-1] * MAX_ANGLE, net, K)


def fitted_sigma0(mc_val, angles):
    """The constant noise sigma_0 minimising the held-out NLL (a grid over 0.01-100 deg)."""
    mean, var = mc_val.mean(0), mc_val.var(0)
    grid = torch.logspace(-2, 2, 401)
    nll = [calibration.gaussian_nll(mean, (var + s**2).sqrt(), angles) for s in grid]
    return grid[torch.tensor(nll).argmin()].item()


predictive = {}
for name, net in [("fast_sigmoid", nets["fast_sigmoid"]), ("SBNN, deployed", nets["SBNN"])]:
    sigma = (final_membrane(net, x_val, False) - angle_val).pow(2).mean().sqrt()
    mean = final_membrane(net, x_test, False)
    predictive[name] = (mean, sigma.expand_as(mean))
mc_val = final_membrane(nets["SBNN"], x_val, True)
mc_test = final_membrane(nets["SBNN"], x_test, True)
sigma0 = fitted_sigma0(mc_val, angle_val)
predictive["SBNN, sampled"] = (mc_test.mean(0), mc_test.std(0))
predictive["SBNN, sampled + noise"] = (
    mc_test.mean(0),
    (mc_test.var(0) + sigma0**2).sqrt(),
)
print(
    f"fitted constant noise sigma_0 = {sigma0:.2f} deg; mean sampled spread "
    f"{mc_test.std(0).mean():.2f} deg"
)

print(
    f"\n{'predictor':<24} {'RMSE':>7} {'mean σ':>7} {'NLL':>7} {'cover 50%':>9} "
    f"{'cover 90%':>9} {'corr(σ,|err|)':>13}"
)
for name, (mean, std) in predictive.items():
    err = (mean - angle_test).abs()
    corr = torch.corrcoef(torch.stack([std, err]))[0, 1].item() if std.max() > std.min() else 0.0
    print(
        f"{name:<24} {err.pow(2).mean().sqrt():>6.2f}° {std.mean():>6.2f}° "
        f"{calibration.gaussian_nll(mean, std, angle_test):>7.3f} "
        f"{100 * calibration.interval_coverage(mean, std, angle_test, 0.5):>8.1f}% "
        f"{100 * calibration.interval_coverage(mean, std, angle_test, 0.9):>8.1f}% "
        f"{corr:>13.3f}"
    )

# %% [markdown]
# `RMSE` and `mean σ` in degrees; `NLL` in nats per test image (angles in degrees);
# `cover 50%`/`cover 90%` are the fractions of test angles inside the central 50 % and
# 90 % predictive intervals (calibrated: 50 % and 90 %); the last column is the
# correlation between the error bar and the actual error (0 for a constant error bar).
#
# ## Coverage at every level, and predictions against the truth

# %%
levels = torch.linspace(0.05, 0.95, 19)
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for name, (mean, std) in predictive.items():
    cover = [calibration.interval_coverage(mean, std, angle_test, lv.item()) for lv in levels]
    axes[0].plot(levels, cover, "o-", ms=3, label=name)
axes[0].plot([0, 1], [0, 1], "k:", lw=1)
axes[0].set_xlabel("nominal coverage of the central interval")
axes[0].set_ylabel("empirical coverage")
axes[0].legend(fontsize=8)
show = torch.arange(300)
for ax, name in zip(axes[1:], ["fast_sigmoid", "SBNN, sampled + noise"], strict=True):
    mean, std = predictive[name]
    ax.errorbar(
        angle_test[show],
        mean[show],
        yerr=1.645 * std[show],
        fmt=".",
        ms=3,
        elinewidth=0.5,
        alpha=0.6,
    )
    ax.plot([-MAX_ANGLE, MAX_ANGLE], [-MAX_ANGLE, MAX_ANGLE], "k:", lw=1)
    ax.set_xlabel("true angle (°)")
    ax.set_ylabel("predicted angle (°), 90 % interval")
    ax.set_title(name, fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Which digits are hard, and does the SBNN know?
#
# Some digits carry little information about their own rotation (a handwritten 1 or 0
# is often slanted or round to begin with). Per digit class: the test RMSE of each
# model, and the SBNN's mean error bar.

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
width = 0.27
digits = torch.arange(10)
for i, name in enumerate(["fast_sigmoid", "SBNN, sampled + noise"]):
    mean, _ = predictive[name]
    rmse = [(mean - angle_test)[digit_test == d].pow(2).mean().sqrt() for d in digits]
    ax.bar(digits + (i - 1) * width, rmse, width, label=f"{name}: RMSE")
_, std = predictive["SBNN, sampled + noise"]
ax.bar(
    digits + width,
    [std[digit_test == d].mean() for d in digits],
    width,
    label="SBNN, sampled + noise: mean σ",
)
ax.set_xticks(digits)
ax.set_xlabel("digit")
ax.set_ylabel("degrees")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
per_digit = {d: (mc_test.std(0)[digit_test == d].mean().item()) for d in range(10)}
print(
    "SBNN sampled spread per digit (deg):", ", ".join(f"{d}: {s:.2f}" for d, s in per_digit.items())
)

# %% [markdown]
# ## The membrane following its target
#
# Upstream's picture: the output membrane over time against its target ramp, here for
# four test images. The SBNN's `K` sampled trajectories are the thin lines.

# %%
fig, axes = plt.subplots(1, 4, figsize=(12, 2.8), sharey=True)
with torch.no_grad():
    det = nets["fast_sigmoid"](x_test[:4]) * MAX_ANGLE
    samples = sb.mc_logits(lambda: nets["SBNN"](x_test[:4]) * MAX_ANGLE, nets["SBNN"], K)
steps = torch.arange(1, NUM_STEPS + 1)
for j, ax in enumerate(axes):
    ax.plot(steps, samples[:, :, j].T, color="tab:orange", lw=0.5, alpha=0.4)
    ax.plot(steps, samples[:, :, j].mean(0), color="tab:orange", label="SBNN, mean of passes")
    ax.plot(steps, det[:, j], color="tab:blue", label="fast_sigmoid")
    ax.plot(steps, RAMP * angle_test[j], "k--", label="target")
    ax.set_title(f"true angle {angle_test[j]:+.1f}°", fontsize=9)
    ax.set_xlabel("time step")
axes[0].set_ylabel("45° × membrane")
axes[0].legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## What the numbers say
#
# **What this run found** (one seed, one pass over 20,000 images; the printed numbers
# above). Here the SBNN is *worse*, and its uncertainty adds nothing a constant error
# bar does not give.
#
# * **Accuracy.** Both networks learn to read the angle from the membrane; the
#   deterministic one better and faster: test RMSE 12.8° (`fast_sigmoid`) against
#   13.2° deployed and as the mean of 20 passes for the SBNN (angles are uniform on
#   ±45°, so predicting 0° would give 26°). Its training MSE was also higher at the
#   end (0.050 against 0.034), and its training took several times as long (printed
#   above). With the library's earlier defaults (IW-ST(1), the full KL weight) the SBNN
#   was further behind (14.2°); the current ones (straight-through Gaussian neurons, KL
#   weight 0.1) narrow the gap without closing it.
# * **Raw Monte-Carlo intervals are far too narrow.** The sampled passes spread by 6.9°
#   on average while the actual error is 13.2°, so the nominal 50 % and 90 % intervals
#   cover only 30.0 % and 62.9 % of the test angles (NLL 4.88).
# * **The spread does not track the error.** Its correlation with the absolute error is
#   0.07, and its per-digit mean varies only between 6.4° and 7.3°. Adding a constant
#   noise term fitted on held-out data (σ₀ = 10.7°) makes the intervals calibrated
#   (52.3 % and 89.7 %), but then the SBNN is essentially a constant error bar around
#   a worse mean: NLL 4.00 against 3.97 for the deterministic network with its fitted
#   constant error bar (which covers 52.4 % and 89.2 %).
# * Our reading, not tested here: each step draws fresh noise for every current (local
#   reparameterisation), so over the 10 steps of a pass the weight uncertainty averages
#   out like neuron noise and the spread of the final membrane hardly depends on the
#   input; and most of the error in this task is in the data (digits are written at a
#   slant), which a model trained with a plain MSE cannot express as uncertainty. A
#   heteroscedastic readout (a second output for the variance, trained on the Gaussian
#   NLL) would be the natural next step.

# %%
print(f"run time: {time.perf_counter() - started:.0f} s on {torch.get_num_threads()} threads")
