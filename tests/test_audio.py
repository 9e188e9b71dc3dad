"""The audio spike-encoding front end and the spike-encoded FSDD dataset."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from snntorch_bayes import datasets
from snntorch_bayes.audio import (
    EVENT_DTYPE,
    delta_events,
    encode_audio,
    log_mel_features,
    mel_filterbank,
)
from tests.conftest import SHARED_MNIST

SHARED_FSDD = SHARED_MNIST.parent / "fsdd-recordings.tar.gz"
RATE = 8000


def _centres(num_channels, f_min=50.0, f_max=RATE / 2):
    mel = np.linspace(2595 * np.log10(1 + f_min / 700), 2595 * np.log10(1 + f_max / 700),
                      num_channels + 2)  # fmt: skip
    return (700 * (10 ** (mel / 2595) - 1))[1:-1]


def test_mel_filterbank_is_triangles_peaking_at_mel_spaced_centres():
    bank = mel_filterbank(16, 1024, RATE)
    freqs = np.linspace(0, RATE / 2, 513)
    assert bank.shape == (16, 513) and bank.min() >= 0 and bank.max() <= 1
    peaks = freqs[bank.argmax(1).numpy()]
    np.testing.assert_allclose(peaks, _centres(16), atol=RATE / 1024)  # one bin
    assert (np.diff(peaks) > 0).all()
    for bad in ({"f_min": 5000}, {"f_min": -1}):
        with pytest.raises(ValueError, match="f_min"):
            mel_filterbank(16, 1024, RATE, **bad)
    with pytest.raises(ValueError, match="num_channels"):
        mel_filterbank(0, 1024, RATE)


@pytest.mark.parametrize("frequency", [300.0, 1000.0, 2500.0])
def test_a_pure_tone_excites_the_channel_centred_nearest_to_it(frequency):
    t = torch.arange(RATE) / RATE
    features = log_mel_features(torch.sin(2 * math.pi * frequency * t), RATE, num_channels=32)
    loudest = int(features[10:-10].mean(0).argmax())
    assert abs(loudest - int(np.abs(_centres(32) - frequency).argmin())) <= 1


def _reference_delta(y, threshold, hop_us):
    """One crossing at a time, channel by channel."""
    events = []
    for c in range(y.shape[1]):
        ref = y[0, c]
        for n in range(1, y.shape[0]):
            while y[n, c] - ref >= threshold:
                ref += threshold
                events.append((n * hop_us, c, 1))
            while ref - y[n, c] >= threshold:
                ref -= threshold
                events.append((n * hop_us, c, 0))
    return sorted(events)


def test_delta_events_equal_a_crossing_by_crossing_reference():
    g = torch.Generator().manual_seed(0)
    y = torch.randn(40, 6, generator=g, dtype=torch.float64).cumsum(0)
    events = delta_events(y, 0.7, 10_000)
    assert events.dtype == EVENT_DTYPE
    assert (np.diff(events["t"]) >= 0).all()
    got = sorted(map(tuple, events.tolist()))
    assert got == _reference_delta(y.numpy(), 0.7, 10_000)
    assert delta_events(torch.ones(10, 3), 0.5, 1).size == 0  # constant: silent
    with pytest.raises(ValueError, match="threshold"):
        delta_events(y, 0.0, 1)
    with pytest.raises(ValueError, match="frames, channels"):
        delta_events(torch.ones(5), 0.5, 1)


def test_encoding_a_tone_onset_fires_on_events_in_its_channel_at_the_onset():
    t = torch.arange(RATE) / RATE
    ramp = ((t - 0.5) / 0.05).clamp(0, 1)  # 50 ms fade-in: no broadband click
    tone = torch.sin(2 * math.pi * 1000 * t) * ramp
    events = encode_audio(tone, RATE, num_channels=32)
    on = events[events["p"] == 1]
    assert on.size > 0 and abs(on["t"].min() - 500_000) <= 50_000
    channel = int(np.abs(_centres(32) - 1000).argmin())
    assert np.bincount(on["x"], minlength=32).argmax() in (channel - 1, channel, channel + 1)
    assert encode_audio(torch.zeros(RATE), RATE).size == 0
    with pytest.raises(ValueError, match="1-D"):
        encode_audio(torch.zeros(2, 100), RATE)


@pytest.fixture(scope="module")
def fsdd_root(tmp_path_factory):
    if not SHARED_FSDD.exists():
        pytest.skip("no local FSDD copy")
    root = tmp_path_factory.mktemp("fsdd")
    datasets.SpikingFSDD(root, local_copy=SHARED_FSDD, download=False)
    return root


def test_fsdd_official_split_and_labels(fsdd_root):
    train = datasets.SpikingFSDD(fsdd_root, train=True, download=False)
    test = datasets.SpikingFSDD(fsdd_root, train=False, download=False)
    assert len(train) == 2700 and len(test) == 300
    assert np.bincount(train.targets).tolist() == [270] * 10
    assert np.bincount(test.targets).tolist() == [30] * 10
    events, label = test[0]
    assert events.dtype == EVENT_DTYPE and events.size > 50 and 0 <= label <= 9
    assert events["x"].max() < 64 and set(np.unique(events["p"])) <= {0, 1}
    again, _ = test[0]
    assert np.array_equal(events, again)  # deterministic


def test_fsdd_transform_and_tonic_frames(fsdd_root):
    counted = datasets.SpikingFSDD(fsdd_root, train=False, download=False, transform=len)
    assert counted[0][0] > 0
    tonic = pytest.importorskip("tonic")
    to_frame = tonic.transforms.ToFrame(
        sensor_size=datasets.SpikingFSDD.sensor_size(64), n_time_bins=20
    )
    frames, _ = datasets.SpikingFSDD(fsdd_root, train=False, download=False, transform=to_frame)[0]
    assert frames.shape == (20, 2, 64) or frames.shape[0] == 20


def test_fsdd_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("SNNTORCH_BAYES_FSDD", raising=False)
    with pytest.raises(datasets.DatasetNotFoundError, match="SNNTORCH_BAYES_FSDD"):
        datasets.SpikingFSDD(tmp_path, download=False)
    with pytest.raises(datasets.DatasetNotFoundError, match="does not exist"):
        datasets.SpikingFSDD(tmp_path, local_copy=tmp_path / "nope.tar.gz")
