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
# # Tutorial 7, Bayesian: spoken digits as spikes, through tonic
#
# snnTorch's tutorial 7 trains on neuromorphic data loaded with
# [tonic](https://tonic.readthedocs.io) (N-MNIST). The neuromorphic audio benchmark
# closest to the paper's SHD is not obtainable here, so we build a similar task from
# real recordings: the **Free Spoken Digit Dataset** (3,000 recordings of the digits 0-9
# by six speakers, 8 kHz), turned into spikes by a front end that lives in the library,
# `snntorch_bayes.audio`: a 64-channel mel filterbank followed by send-on-delta encoding
# (a channel emits an ON event each time its log energy rises by 0.5, an OFF event each
# time it falls by 0.5). We call the result what it is, *spike-encoded FSDD*; it is not
# SHD.
#
# The events come in tonic's audio layout (`t` in µs, channel `x`, polarity `p`), so
# tonic's transforms apply: `ToFrame` bins them into `T` frames. The network is a
# variational `Synaptic` network (current-based neurons, whose synaptic current gives
# them a memory of the last frames), trained on the ELBO, against its deterministic twin.
# The official split: recordings 0-4 of each speaker and digit are the test set.
# `SNNTORCH_BAYES_FAST=1` runs a few batches.

# %%
import os
import time
import warnings

import matplotlib.pyplot as plt
import snntorch as snn
import torch
from snntorch import surrogate as snn_surrogate
from torch import nn

import snntorch_bayes as sb
from snntorch_bayes import calibration
from snntorch_bayes.datasets import SpikingFSDD
from snntorch_bayes.training import membrane_ce_loss

with warnings.catch_warnings():  # tonic's progress bars warn in Jupyter without ipywidgets
    warnings.simplefilter("ignore")
    import tonic

FAST = os.environ.get("SNNTORCH_BAYES_FAST") == "1"
EPOCHS = 1 if FAST else 15
LIMIT = 64 if FAST else None  # recordings per split
T, CHANNELS = 50, 64
K = 2 if FAST else 20
started = time.perf_counter()
torch.manual_seed(0)

# %% [markdown]
# ## Events and frames
#
# Offline, point `SNNTORCH_BAYES_FSDD` at the recordings archive (or a folder of WAVs).

# %%
to_frames = tonic.transforms.ToFrame(sensor_size=SpikingFSDD.sensor_size(CHANNELS), n_time_bins=T)
raw = SpikingFSDD(train=False, num_channels=CHANNELS)
events, label = raw[0]
print(f"{len(raw)} test recordings; the first (digit {label}) has {events.size} events")
fig, ax = plt.subplots(figsize=(7, 2.6))
on, off = events[events["p"] == 1], events[events["p"] == 0]
ax.scatter(on["t"] / 1e3, on["x"], s=2, label="ON")
ax.scatter(off["t"] / 1e3, off["x"], s=2, label="OFF")
ax.set_xlabel("time (ms)")
ax.set_ylabel("filterbank channel")
ax.set_title(f"Spike-encoded recording of the digit {label}")
ax.legend(markerscale=4, fontsize=8)
fig.tight_layout()
plt.show()


# %%
def frames(train: bool):
    """All recordings of a split as [N, T, 2 * CHANNELS] event counts (encoded once)."""
    data = SpikingFSDD(train=train, num_channels=CHANNELS, transform=to_frames)
    count = len(data) if LIMIT is None else min(LIMIT, len(data))
    xs, ys = zip(*(data[i] for i in torch.randperm(len(data))[:count].tolist()), strict=True)
    x = torch.stack([torch.as_tensor(f, dtype=torch.float32).reshape(T, -1) for f in xs])
    return x, torch.tensor(ys)


x_train, y_train = frames(train=True)
x_test, y_test = frames(train=False)
print(
    f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}, "
    f"mean events per frame and channel {x_train.mean():.3f}"
)


# %% [markdown]
# ## The networks
#
# `2·64 → 256 → 10`, `Synaptic(alpha=0.9, beta=0.8)` neurons, the output membrane summed
# over frames as the loss (as in tutorial 5). The SBNN's neurons get an intrinsic noise
# current of 0.5 (half the threshold) on top of the posterior noise, which kept sparse
# layers trainable under the library's earlier defaults (tutorial 6 no longer needs it;
# whether this network does with the current defaults and `sb.initialize` is not
# re-examined here).


# %%
class FrameSNN(nn.Module):
    def __init__(self, bayes: bool, hidden: int = 256):
        super().__init__()
        if bayes:
            linear, neuron = sb.BayesLinear, sb.VariationalSynaptic
            kwargs = {"intrinsic_noise": 0.5}
        else:
            linear, neuron = nn.Linear, snn.Synaptic
            kwargs = {"spike_grad": snn_surrogate.fast_sigmoid(slope=25)}
        self.fc1, self.lif1 = linear(2 * CHANNELS, hidden), neuron(0.9, 0.8, **kwargs)
        self.fc2, self.lif2 = linear(hidden, 10), neuron(0.9, 0.8, **kwargs)

    def forward(self, x):  # x: [B, T, features]
        syn1, mem1 = self.lif1.reset_mem()
        syn2, mem2 = self.lif2.reset_mem()
        spk_rec, mem_rec = [], []
        for t in range(x.shape[1]):
            spk1, syn1, mem1 = self.lif1(self.fc1(x[:, t]), syn1, mem1)
            spk2, syn2, mem2 = self.lif2(self.fc2(spk1), syn2, mem2)
            spk_rec.append(spk2)
            mem_rec.append(mem2)
        return torch.stack(spk_rec), torch.stack(mem_rec)


# %% [markdown]
# ## Training

# %%
models = {"fast_sigmoid(25)": FrameSNN(bayes=False), "SBNN": FrameSNN(bayes=True)}
curves = {}
for name, net in models.items():
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    elbo = sb.ELBO(num_train=len(x_train)) if name == "SBNN" else None
    generator = torch.Generator().manual_seed(0)
    net.train()
    losses, clock = [], time.perf_counter()
    for _ in range(EPOCHS):
        for batch in torch.randperm(len(x_train), generator=generator).split(32):
            _, mem_rec = net(x_train[batch])
            loss = membrane_ce_loss(mem_rec, y_train[batch])
            if elbo is not None:
                loss = elbo(loss, net)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    curves[name] = losses
    print(f"{name:<18} trained in {time.perf_counter() - clock:.0f} s")

plt.figure(figsize=(6, 3.2))
for name, losses in curves.items():
    window = min(20, len(losses))
    plt.plot(torch.tensor(losses).unfold(0, window, 1).mean(1), label=name)
plt.yscale("log")
plt.xlabel("training step")
plt.ylabel("loss (running mean of 20)")
plt.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Test accuracy, NLL and calibration on the 300 test recordings

# %%
rows = {}
with torch.no_grad():
    for net in models.values():
        net.eval()
    rows["fast_sigmoid(25)"] = models["fast_sigmoid(25)"](x_test)[1].mean(0).unsqueeze(0)
    rows["SBNN, deployed"] = models["SBNN"](x_test)[1].mean(0).unsqueeze(0)
    rows[f"SBNN, model average K={K}"] = sb.mc_logits(
        lambda: models["SBNN"](x_test)[1].mean(0), models["SBNN"], K
    )
print(f"{'predictor':<26} {'accuracy':>9} {'NLL':>8} {'ECE':>7}")
for name, logits in rows.items():
    m = calibration.predictive_metrics(calibration.bayesian_model_average(logits), y_test)
    print(f"{name:<26} {100 * m['accuracy']:>8.2f}% {m['nll']:>8.4f} {100 * m['ece']:>6.2f}%")

# %% [markdown]
# **What this run found** (one seed, 300 test recordings; printed above). Both networks
# learn the task from the spike-encoded audio; the SBNN is ahead here on accuracy and
# clearly on NLL, while its model average's ECE is higher than the baseline's. With
# 300 test recordings one error is a third of a point, and ECE over 15 bins is noisy at
# this size: treat differences of a point or two as unresolved without more seeds.

# %%
print(f"run time: {time.perf_counter() - started:.0f} s on {torch.get_num_threads()} threads")
