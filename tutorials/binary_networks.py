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
# # Binary networks without BatchNorm
#
# A binary (non-spiking) network is the one-step, β = 0 case of a spiking one: each unit
# outputs $z = H(Wx + b - \theta)$. snnTorch's BSNN tutorial trains such a network with
# binarised weights and **BatchNorm** after every layer, because without normalisation
# the pre-activations drift away from the threshold and the surrogate gradients vanish
# or explode. This notebook trains the Bayesian counterpart *without* normalisation:
# variational weights whose posterior noise makes every unit a noisy binary neuron,
# started at its low-bias operating point by `sb.initialize` and trained with the
# library's defaults (the recipe of `docs/recipe.md`).
#
# On Fashion-MNIST, with hidden layers of 256 binary units and two depths (2 and 6 hidden
# layers), we compare (`snntorch_bayes.deep`, the same networks as the main job's third
# table and `benchmarks/sbnn_recipe.py`):
#
# * **sbnn**: `BayesLinear` + `VariationalLeaky(beta=0)`, no normalisation, after
#   `sb.initialize(net, x)`, trained on `sb.ELBO(num_train=N)` with its default
#   (tempered) KL weight 0.1 and the neurons' default estimator, IW-ST with p = 0;
# * **fast_sigmoid**: deterministic binary units, snnTorch's surrogate, no normalisation,
#   given the same `sb.initialize` start (at a spread of 0.04 thresholds, chosen on
#   validation for this surrogate);
# * **fast_sigmoid + BatchNorm**: `BatchNorm1d` before every binary layer (the upstream
#   recipe, real-valued weights here), its shift started at the threshold and its gain
#   at 0.25 (`snntorch_bayes.deep.BN_GAMMA`, chosen on validation), so that its units
#   also start at π = ½. PyTorch's initialisation (shift 0, gain 1) starts them far
#   below snnTorch's threshold of 1 and is a much weaker baseline (`docs/recipe.md` §4).
#
# Each method uses its learning rate chosen on a validation split in the recipe study;
# all three see the same batches. Where we differ from upstream's BSNN: weights are
# real-valued (variational Gaussian weights in the SBNN), not binarised; the point here
# is the activations and the normalisation. `SNNTORCH_BAYES_FAST=1` runs a few batches.

# %%
import os
import time

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

import snntorch_bayes as sb
from snntorch_bayes import calibration, datasets
from snntorch_bayes.deep import LEARNING_RATES, METHODS, TWIN_SPREAD, BinaryMLP

FAST = os.environ.get("SNNTORCH_BAYES_FAST") == "1"
EPOCHS = 1 if FAST else 3
MAX_BATCHES = 5 if FAST else None
DEPTHS = [2, 6]
WIDTH = 256
started = time.perf_counter()

train = datasets.fashion_mnist(train=True)
test = datasets.fashion_mnist(train=False)
g = torch.Generator()
train_loader = torch.utils.data.DataLoader(
    train, batch_size=128, shuffle=True, drop_last=True, generator=g
)
test_loader = torch.utils.data.DataLoader(test, batch_size=1000)
x_init = torch.stack([train[i][0] for i in range(512)]).flatten(1)  # initialize's batch

# %% [markdown]
# ## The networks
#
# One time step; the logits are the current of the last layer (its mean in deployment).
# Every hidden layer is binary.

# %%
print(BinaryMLP("sbnn", depth=2, width=WIDTH))

# %% [markdown]
# ## The operating point, before and after `sb.initialize`
#
# A unit's gradient scales with the noise density at $a = (\mu - \theta)/\sqrt{v}$. A
# freshly built layer gives currents of spread about 0.2 around 0, far below the
# threshold 1: the median firing probability $\pi$ is near 0 and the gradient vanishes.
# `sb.initialize` scales every unit's weights to a spread of one threshold, sets the
# posterior noise to half of it and bisects the bias until $\pi = 1/2$, layer by layer
# (`sb.measure` reports the same statistics without changing anything).

# %%
torch.manual_seed(0)
probe = BinaryMLP("sbnn", depth=6, width=WIDTH)
before = sb.measure(probe, x_init)
after = sb.initialize(probe, x_init)
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
layers = range(1, len(before) + 1)
axes[0].plot(layers, [s.pi_after for s in before], "o-", label="fresh")
axes[0].plot(layers, [s.pi_after for s in after], "s-", label="after initialize")
axes[0].set_ylabel("median firing probability π")
axes[1].plot(layers, [s.snr_after for s in before], "o-", label="fresh")
axes[1].plot(layers, [s.snr_after for s in after], "s-", label="after initialize")
axes[1].set_ylabel("median √v / |μ − θ|")
for ax in axes:
    ax.set_xlabel("hidden layer")
    ax.set_yscale("log")
    ax.legend()
fig.tight_layout()
plt.show()
print("π per layer, fresh:           ", [round(s.pi_after, 3) for s in before])
print("π per layer, after initialize:", [round(s.pi_after, 3) for s in after])

# %% [markdown]
# ## Training: 3 epochs each, Adam, the same batches
#
# We also record the gradient norm reaching the first layer, the quantity that
# normalisation is there to protect.

# %%
nets, curves, first_grads = {}, {}, {}
for depth in DEPTHS:
    for kind in METHODS:
        torch.manual_seed(0)
        net = BinaryMLP(kind, depth, WIDTH)
        if kind == "sbnn":
            sb.initialize(net, x_init)
        elif kind == "fast_sigmoid":
            sb.initialize(net, x_init, spread=TWIN_SPREAD)
        optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATES[kind])
        elbo = sb.ELBO(num_train=len(train)) if kind == "sbnn" else None
        first = net.hidden[0]
        losses, grads = [], []
        g.manual_seed(0)
        net.train()
        for _ in range(EPOCHS):
            for i, (x, y) in enumerate(train_loader):
                if MAX_BATCHES is not None and i == MAX_BATCHES:
                    break
                loss = F.cross_entropy(net(x.flatten(1)), y)
                if elbo is not None:
                    loss = elbo(loss, net)
                optimizer.zero_grad()
                loss.backward()
                grads.append(first.weight.grad.norm().item())
                optimizer.step()
                losses.append(loss.item())
        nets[kind, depth], curves[kind, depth], first_grads[kind, depth] = net, losses, grads
    print(f"depth {depth} trained ({time.perf_counter() - started:.0f} s so far)")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
for kind in METHODS:
    for depth, style in zip(DEPTHS, ["-", "--"], strict=True):
        losses = torch.tensor(curves[kind, depth])
        window = min(50, len(losses))
        axes[0].plot(losses.unfold(0, window, 1).mean(1), style, label=f"{kind}, {depth} hidden")
        grads = torch.tensor(first_grads[kind, depth])
        axes[1].plot(grads.unfold(0, window, 1).mean(1), style, label=f"{kind}, {depth} hidden")
axes[0].set_ylabel("training loss (running mean of 50)")
axes[1].set_ylabel("gradient norm at the first layer")
for ax in axes:
    ax.set_xlabel("training step")
    ax.set_yscale("log")
axes[1].legend(fontsize=7)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Test accuracy, NLL and calibration (10,000 test images)
#
# The SBNN is scored deployed (posterior means, deterministic thresholds) and as a model
# average of 10 sampled passes.


# %%
def logits_of(net, sampled: bool):
    out, labels = [], []
    with torch.no_grad():
        for x, y in test_loader:
            if MAX_BATCHES is not None and len(labels) == 1:
                break
            x = x.flatten(1)
            if sampled:
                out.append(sb.mc_logits(lambda x=x: net(x), net, 10))
            else:
                out.append(net(x).unsqueeze(0))
            labels.append(y)
    return torch.cat(out, 1), torch.cat(labels)


print(f"{'network':<38} {'hidden':>6} {'accuracy':>9} {'NLL':>8} {'ECE':>7}")
for depth in DEPTHS:
    for kind in METHODS:
        net = nets[kind, depth].eval()
        average = [(f"{kind}, model average", True)] if kind == "sbnn" else []
        for name, sampled in [(kind, False), *average]:
            logits, labels = logits_of(net, sampled)
            m = calibration.predictive_metrics(calibration.bayesian_model_average(logits), labels)
            print(
                f"{name:<38} {depth:>6} {100 * m['accuracy']:>8.2f}% {m['nll']:>8.4f} "
                f"{100 * m['ece']:>6.2f}%"
            )

# %% [markdown]
# **What this run found** (one seed, 3 epochs; printed above).
#
# * **The operating point is what was missing.** Freshly built, the 6-layer SBNN's
#   units fire with probability 0.001 or less (first plot): the estimator's gradient
#   vanishes and, in an earlier version of this tutorial that used the library's old
#   defaults (no `initialize`, IW-ST(1), the full KL weight), the SBNN stayed at chance
#   (10 %) at 6 layers, like the unnormalised surrogate network, and reached only 70 %
#   at 2. After `sb.initialize` every layer starts at π = ½.
# * **Without any normalisation the SBNN now matches both twins**: 85.5 % against
#   85.8 % (`fast_sigmoid`) and 85.9 % (BatchNorm) at 2 hidden layers, where it is the
#   last of the three by 0.4 points; 84.9 % against 84.9 % and 84.2 % at 6. The
#   BatchNorm twin starts at the threshold like the others; with PyTorch's
#   initialisation it reached only 84.2 % and 74.9 % in an earlier run of this
#   tutorial. The three-seed benchmark (`benchmarks/sbnn_recipe.py`,
#   `docs/recipe.md`) gives the same picture: 85.2 ± 0.7 / 84.8 ± 0.2 / 84.6 ± 0.8 % at
#   2 layers and 84.1 ± 0.1 / 83.0 ± 1.5 / 83.3 ± 0.2 % at 6, and the SBNN pulls ahead
#   only at 12 (66.0 % against 47.2 % and 54.0 %).
# * **Calibration is where the SBNN does not yet deliver.** Its model average has the
#   lowest NLL at 6 layers (0.430 against 0.437 and 0.452) but not at 2 (0.402 against
#   0.402 and 0.388), and its ECE (1.8 % and 2.9 %) stays above the `fast_sigmoid`
#   twin's (0.7 % and 1.1 %); the deployed SBNN (posterior means, deterministic
#   thresholds) is clearly overconfident (ECE 6.3-6.6 %): average its sampled passes
#   when calibration matters.

# %%
print(f"run time: {time.perf_counter() - started:.0f} s on {torch.get_num_threads()} threads")
