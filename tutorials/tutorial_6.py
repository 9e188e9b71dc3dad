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
# # Tutorial 6, Bayesian: a convolutional SNN with variational convolutions
#
# snnTorch's tutorial 6 trains a convolutional spiking network on MNIST:
# `12C5 - MaxPool2 - Leaky - 64C5 - MaxPool2 - Leaky - FC 1024→10 - Leaky`, β = 0.5,
# 50 time steps, `fast_sigmoid(25)`, the rate-coded cross-entropy `SF.ce_rate_loss`,
# Adam 1e-2, batch 128, and reports 95.70 % after the 150 iterations it shows. Here the
# same network is trained as an SBNN: `BayesConv2d` and `BayesLinear` layers,
# `VariationalLeaky` neurons, no BatchNorm anywhere.
#
# **Max pooling a Gaussian current.** A variational convolution returns the mean and
# variance of its output current; `sb.max_pool2d` keeps, in each 2×2 window, the unit
# with the largest *mean* and passes on its mean and variance. Without posterior noise
# this is exactly max pooling, so the deployed SBNN is exactly tutorial 6's network; with
# noise it is an approximation (see the SBNN guide).
#
# **What it takes.** An earlier version of this tutorial needed an intrinsic noise
# current (`intrinsic_noise=0.5`) for the SBNN to learn at all: with IW-ST(1) neurons,
# the full KL weight and PyTorch's default initialisation its second layer sat far below
# threshold and never fired. With the library's current defaults (straight-through
# Gaussian neurons, KL weight 0.1) and `sb.initialize`, no extra noise is needed; a
# 40-iteration screen at 10 steps (one seed, 1,000 test images) gave 81.7 % without
# `initialize`, 83.6 % with it at a target rate of ½, and 93.4 % at the default spiking
# target rate 0.2 (0.1: 93.9 %), against 90.7 % for `fast_sigmoid` from PyTorch's
# initialisation and 92.7 % from the same `initialize`. The rate-coded loss drove the
# SBNN's output layer silent in that earlier version, so both models here use tutorial
# 5's loss, the cross-entropy of the output membrane summed over steps, and the same
# learning rate, 5e-3.
#
# Otherwise: both models get the same budget (150 iterations, the same batches), the
# SBNN adds `0.1 KL/N` (`sb.ELBO`'s default, a tempered KL weight), and we evaluate on
# 2,000 test images (the full test set at 50 steps and 10 sampled passes takes several
# minutes more on a 2-core CPU).
# `SNNTORCH_BAYES_FAST=1` runs a few iterations.

# %%
import os
import time

import matplotlib.pyplot as plt
import snntorch as snn
import torch
from snntorch import surrogate as snn_surrogate
from torch import nn

import snntorch_bayes as sb
from snntorch_bayes import calibration, datasets
from snntorch_bayes.training import membrane_ce_loss, predict

FAST = os.environ.get("SNNTORCH_BAYES_FAST") == "1"
ITERATIONS = 3 if FAST else 150
NUM_STEPS = 5 if FAST else 50
EVAL_BATCHES = 1 if FAST else 2  # x 1000 test images
K = 2 if FAST else 10
started = time.perf_counter()

train = datasets.mnist(train=True)
test = datasets.mnist(train=False)
g = torch.Generator()
train_loader = torch.utils.data.DataLoader(
    train, batch_size=128, shuffle=True, drop_last=True, generator=g
)
test_loader = torch.utils.data.DataLoader(test, batch_size=1000)


# %% [markdown]
# ## The two networks
#
# The code is the same up to the class names: that is the point of the port.


# %%
class ConvSNN(nn.Module):
    """Tutorial 6's network; ``bayes=True`` makes every layer and neuron variational."""

    def __init__(self, bayes: bool, num_steps: int = NUM_STEPS, beta: float = 0.5):
        super().__init__()
        self.num_steps = num_steps
        if bayes:
            conv, linear, neuron = sb.BayesConv2d, sb.BayesLinear, sb.VariationalLeaky
            kwargs = {}  # the library's defaults
        else:
            conv, linear, neuron = nn.Conv2d, nn.Linear, snn.Leaky
            kwargs = {"spike_grad": snn_surrogate.fast_sigmoid(slope=25)}
        self.conv1, self.lif1 = conv(1, 12, 5), neuron(beta=beta, **kwargs)
        self.conv2, self.lif2 = conv(12, 64, 5), neuron(beta=beta, **kwargs)
        self.fc, self.lif3 = linear(64 * 4 * 4, 10), neuron(beta=beta, **kwargs)

    def forward(self, x):
        mem1, mem2, mem3 = self.lif1.reset_mem(), self.lif2.reset_mem(), self.lif3.reset_mem()
        cur1 = sb.max_pool2d(self.conv1(x), 2)  # the input is constant: convolve it once
        spk_rec, mem_rec = [], []
        for _ in range(self.num_steps):
            spk1, mem1 = self.lif1(cur1, mem1)
            spk2, mem2 = self.lif2(sb.max_pool2d(self.conv2(spk1), 2), mem2)
            spk3, mem3 = self.lif3(self.fc(spk2.flatten(1)), mem3)
            spk_rec.append(spk3)
            mem_rec.append(mem3)
        return torch.stack(spk_rec), torch.stack(mem_rec)


# %% [markdown]
# ## Start at the operating point
#
# `sb.initialize` runs one batch of 256 training images through each network and, layer
# by layer, scales every channel's weights so that its membrane spreads over about one
# threshold, sets the SBNN's posterior noise to half of that (to all of it in the
# output layer, whose spikes feed no other layer), and shifts every bias
# until the channel fires at `SPIKING_TARGET_RATE` = 20 % of its steps (the default for
# neurons that run over several steps). Both networks get the same start.

# %%
x_init = torch.stack([train[i][0] for i in range(256)])
models = {}
for name, bayes in [("fast_sigmoid(25)", False), ("SBNN", True)]:
    torch.manual_seed(0)
    models[name] = ConvSNN(bayes=bayes)
    stats = sb.initialize(models[name], x_init)
    print(
        f"{name:<18} firing rate per layer after initialize:",
        [round(s.rate_after, 2) for s in stats],
    )

# %% [markdown]
# ## Training: 150 iterations each, the same batches

# %%
histories, seconds = {}, {}
for name, net in models.items():
    optimizer = torch.optim.Adam(net.parameters(), lr=5e-3, betas=(0.9, 0.999))
    elbo = sb.ELBO(num_train=len(train)) if name == "SBNN" else None
    g.manual_seed(0)
    net.train()
    history, clock = [], time.perf_counter()
    for i, (x, y) in enumerate(train_loader):
        if i == ITERATIONS:
            break
        spk_rec, mem_rec = net(x)
        loss = membrane_ce_loss(mem_rec, y)
        if elbo is not None:
            loss = elbo(loss, net)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append((spk_rec.sum(0).argmax(1) == y).float().mean().item())
    histories[name], seconds[name] = history, (time.perf_counter() - clock) / ITERATIONS
    print(
        f"{name:<18} {seconds[name]:.2f} s/iteration, last-20 train accuracy "
        f"{100 * sum(history[-20:]) / len(history[-20:]):.1f}%"
    )

plt.figure(figsize=(6, 3.2))
for name, history in histories.items():
    plt.plot(torch.tensor(history).cumsum(0) / torch.arange(1, len(history) + 1), label=name)
plt.xlabel("iteration")
plt.ylabel("running mean of batch accuracy")
plt.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Test accuracy, NLL and calibration
#
# Logits are the time-averaged output membrane (what the loss trains); accuracy is also
# given for upstream's readout, the output spike count. The SBNN is scored deployed
# (posterior means, deterministic thresholds) and as a model average of `K` sampled
# passes.

# %%
outputs = {
    "fast_sigmoid(25)": predict(
        models["fast_sigmoid(25)"], test_loader, None, EVAL_BATCHES, progress=False
    ),
    "SBNN, deployed": predict(models["SBNN"], test_loader, None, EVAL_BATCHES, progress=False),
    f"SBNN, model average K={K}": predict(
        models["SBNN"], test_loader, K, EVAL_BATCHES, progress=False
    ),
}
print(f"{'predictor':<26} {'spike count':>11} {'accuracy':>9} {'NLL':>8} {'ECE':>7}")
for name, out in outputs.items():
    m = calibration.predictive_metrics(calibration.bayesian_model_average(out.logits), out.targets)
    count = (out.spike_counts.argmax(1) == out.targets).double().mean().item()
    print(
        f"{name:<26} {100 * count:>10.2f}% {100 * m['accuracy']:>8.2f}% {m['nll']:>8.4f} "
        f"{100 * m['ece']:>6.2f}%"
    )

# %% [markdown]
# **What this run found** (one seed; printed above). Both networks train from the same
# `sb.initialize` start, with no normalisation layer and no intrinsic noise: on the
# membrane readout the loss trains, 96.35 % for `fast_sigmoid`, 96.25 % for the deployed
# SBNN and 96.40 % for its model average (with the output layer's noise at half its
# spread, `initialize`'s default until 2026-12-03: 96.45 % and 96.35 %; the earlier
# version, with PyTorch's start, the old defaults and intrinsic noise for the SBNN,
# reached 95.30 % and 95.80 %). NLL and ECE are level (0.121-0.122, 0.8-1.1 %): one seed,
# the differences are noise. The SBNN costs 3.1× the time per iteration.
#
# Upstream's spike-count readout is another matter: 76.3 % (`fast_sigmoid`), 77.9 %
# (deployed SBNN) and 88.5 % (model average), against 93.6 % / 77.6 % / 91.2 % before
# `initialize` (74.6 % and 85.0 % for the SBNN with the output noise at half its spread).
# `initialize` centres the output neurons too, at 20 % of their steps, so wrong classes
# fire from the start, and the membrane loss never asks them to stop: the spike count
# then carries less of what the membrane knows. Read the output the way it was trained
# (a spike-count readout would need the output layer started lower; `initialize` has
# no per-layer target yet).
#
# ## Spikes of the trained SBNN
#
# A raster of the output layer for one test digit, in deployment and in two sampled
# passes: sampling changes individual spikes, not the overall pattern.

# %%
x, y = next(iter(test_loader))
sbnn = models["SBNN"]
fig, axes = plt.subplots(1, 3, figsize=(10, 2.6), sharey=True)
with torch.no_grad():
    rasters = [sbnn(x[:1])[0][:, 0]]
    with sb.sampling(sbnn):
        rasters += [sbnn(x[:1])[0][:, 0] for _ in range(2)]
for ax, raster, title in zip(axes, rasters, ["deployed", "sample 1", "sample 2"], strict=True):
    t, c = raster.nonzero(as_tuple=True)
    ax.scatter(t, c, marker="|", s=40)
    ax.set_title(f"{title} (digit {y[0].item()})", fontsize=9)
    ax.set_xlabel("time step")
axes[0].set_ylabel("output neuron")
fig.tight_layout()
plt.show()

# %%
print(f"run time: {time.perf_counter() - started:.0f} s on {torch.get_num_threads()} threads")
