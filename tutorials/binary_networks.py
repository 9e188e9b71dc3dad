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
# trained with the IW-ST(1) estimator and the ELBO.
#
# On Fashion-MNIST, with hidden layers of 256 binary units and two depths (2 and 6 hidden
# layers), we compare:
#
# * **fast_sigmoid**: deterministic binary units, snnTorch's surrogate, no normalisation;
# * **fast_sigmoid + BatchNorm**: the same with `BatchNorm1d` before every binary layer
#   (the upstream recipe, real-valued weights here);
# * **SBNN**: `BayesLinear` + `VariationalLeaky(beta=0)`, no normalisation;
# * **SBNN + intrinsic noise**: the same with `intrinsic_noise=0.5` (a noise current of
#   the neuron's own on top of the posterior noise; tutorial 6 found it necessary).
#
# Where we differ from upstream's BSNN: weights are real-valued (variational Gaussian
# weights in the SBNN), not binarised; the point here is the activations and the
# normalisation. `SNNTORCH_BAYES_FAST=1` runs a few batches.

# %%
import itertools
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


# %% [markdown]
# ## The three networks
#
# One time step; the logits are the current of the last layer (its mean in deployment).
# Every hidden layer is binary.


# %%
class BinaryMLP(nn.Module):
    def __init__(self, kind: str, depth: int, width: int = WIDTH):
        super().__init__()
        sizes = [784] + [width] * depth
        layers = []
        for fan_in, fan_out in itertools.pairwise(sizes):
            if kind.startswith("SBNN"):
                noise = 0.5 if "intrinsic" in kind else 0.0
                layers += [
                    sb.BayesLinear(fan_in, fan_out),
                    sb.VariationalLeaky(
                        beta=0.0, reset_mechanism="none", init_hidden=True, intrinsic_noise=noise
                    ),
                ]
            else:
                layers.append(nn.Linear(fan_in, fan_out))
                if kind.endswith("BatchNorm"):
                    layers.append(nn.BatchNorm1d(fan_out))
                surrogate = snn_surrogate.fast_sigmoid(slope=25)
                layers.append(
                    snn.Leaky(beta=0.0, reset_mechanism="none", init_hidden=True,
                              spike_grad=surrogate)
                )  # fmt: skip
        self.hidden = nn.Sequential(*layers)
        self.out = sb.BayesLinear(width, 10) if kind.startswith("SBNN") else nn.Linear(width, 10)

    def forward(self, x):
        for m in self.hidden:  # one step: start every neuron from rest
            if hasattr(m, "reset_mem"):
                m.reset_mem()
        logits = self.out(self.hidden(x.flatten(1)))
        return logits.sample() if isinstance(logits, sb.GaussianCurrent) else logits


# %% [markdown]
# ## Training: 3 epochs each, Adam 1e-3, the same batches
#
# We also record the gradient norm reaching the first layer, the quantity that
# normalisation is there to protect.

# %%
KINDS = ["fast_sigmoid", "fast_sigmoid + BatchNorm", "SBNN", "SBNN + intrinsic noise"]
nets, curves, first_grads = {}, {}, {}
for depth in DEPTHS:
    for kind in KINDS:
        torch.manual_seed(0)
        net = BinaryMLP(kind, depth)
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
        elbo = sb.ELBO(num_train=len(train)) if kind.startswith("SBNN") else None
        first = net.hidden[0]
        losses, grads = [], []
        g.manual_seed(0)
        net.train()
        for _ in range(EPOCHS):
            for i, (x, y) in enumerate(train_loader):
                if MAX_BATCHES is not None and i == MAX_BATCHES:
                    break
                loss = F.cross_entropy(net(x), y)
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
for kind in KINDS:
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
            if sampled:
                out.append(sb.mc_logits(lambda x=x: net(x), net, 10))
            else:
                out.append(net(x).unsqueeze(0))
            labels.append(y)
    return torch.cat(out, 1), torch.cat(labels)


print(f"{'network':<38} {'hidden':>6} {'accuracy':>9} {'NLL':>8} {'ECE':>7}")
for depth in DEPTHS:
    for kind in KINDS:
        net = nets[kind, depth].eval()
        average = [(f"{kind}, model average", True)] if kind.startswith("SBNN") else []
        variants = [(kind, False), *average]
        for name, sampled in variants:
            logits, labels = logits_of(net, sampled)
            m = calibration.predictive_metrics(calibration.bayesian_model_average(logits),
                                               labels)  # fmt: skip
            print(f"{name:<38} {depth:>6} {100 * m['accuracy']:>8.2f}% {m['nll']:>8.4f} "
                  f"{100 * m['ece']:>6.2f}%")  # fmt: skip

# %% [markdown]
# **What this run found** (one seed, 3 epochs; printed above), and it is not what the
# theory predicts. With 2 hidden layers every network trains, the SBNN worst (about 70 %,
# 76-77 % with intrinsic noise, against 83 % without and 85 % with BatchNorm). With 6
# hidden layers, only the BatchNorm network trains (72 %); the SBNN stays at chance
# (10 %), with or without intrinsic noise, exactly like the deterministic surrogate
# network without normalisation. So in this setup (default priors and initialisation,
# Adam 1e-3, 3 epochs, 256 units per layer, no residual connections) posterior noise,
# the KL term and IW-ST do **not** replace normalisation. The paper's claim concerns
# residual networks, which this plain stack is not; the benchmark suite's depth sweep on
# normalisation-free residual networks is where the claim is tested properly. The
# gradient-norm plot shows where to look: how much gradient still reaches the first
# layer in the deep networks.

# %%
print(f"run time: {time.perf_counter() - started:.0f} s on {torch.get_num_threads()} threads")
