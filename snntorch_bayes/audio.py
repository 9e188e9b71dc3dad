r"""A spike-encoding front end for audio: a mel filterbank followed by
send-on-delta encoding, producing events in tonic's audio format.

The pipeline (our design; the spoken-digit task built on it is
*spike-encoded FSDD*, not SHD):

1. **Filterbank.** A short-time Fourier transform (Hann window, ``frame_ms``
   frames every ``hop_ms``) and ``num_channels`` triangular filters equally
   spaced on the mel scale between ``f_min`` and ``f_max`` give the energy
   :math:`E_{c,n}` of channel :math:`c` in frame :math:`n`; the features are
   :math:`y_{c,n} = \log(E_{c,n} + \rho \max E)`, a 40 dB floor
   (:math:`\rho = 10^{-4}`) below the utterance's loudest band.
2. **Send-on-delta.** Each channel keeps a reference level :math:`r_c`
   (starting at the channel's first value).  Whenever
   :math:`y_{c,n} - r_c \ge \delta` it emits an ON event (polarity 1) and
   raises :math:`r_c` by :math:`\delta`, as often as needed; symmetrically an
   OFF event (polarity 0) when :math:`r_c - y_{c,n} \ge \delta`.  So a rising
   level in a frequency band becomes a burst of ON spikes in that channel,
   like the level-crossing encoders of silicon cochleas.

Events are a NumPy structured array with fields ``t`` (microseconds, the
frame's time), ``x`` (channel) and ``p`` (polarity), sorted by time, which
is the layout tonic uses for audio datasets: its transforms apply with
``sensor_size = (num_channels, 1, 2)``, e.g.
``tonic.transforms.ToFrame(sensor_size=(64, 1, 2), n_time_bins=50)``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["EVENT_DTYPE", "delta_events", "encode_audio", "log_mel_features", "mel_filterbank"]

#: Structured dtype of audio events, as tonic's audio datasets use.
EVENT_DTYPE = np.dtype([("t", np.int64), ("x", np.int64), ("p", np.int64)])


def _mel(f: torch.Tensor) -> torch.Tensor:
    return 2595.0 * torch.log10(1.0 + f / 700.0)


def _hz(m: torch.Tensor) -> torch.Tensor:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(
    num_channels: int,
    n_fft: int,
    sample_rate: float,
    f_min: float = 50.0,
    f_max: float | None = None,
) -> torch.Tensor:
    r"""Triangular filters equally spaced on the mel scale,
    :math:`m(f) = 2595 \log_{10}(1 + f/700)`, as a ``[num_channels, n_fft//2 + 1]``
    matrix over the STFT's frequency bins; each filter peaks at 1 at its
    centre frequency.

    Example::

        >>> from snntorch_bayes.audio import mel_filterbank
        >>> mel_filterbank(8, 256, 8000).shape
        torch.Size([8, 129])
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    if not 0 <= f_min < f_max <= sample_rate / 2:
        raise ValueError(
            f"need 0 <= f_min < f_max <= sample_rate/2, got f_min={f_min}, f_max={f_max}, "
            f"sample_rate={sample_rate}"
        )
    if isinstance(num_channels, bool) or not isinstance(num_channels, int) or num_channels < 1:
        raise ValueError(f"num_channels must be an integer >= 1, got {num_channels!r}")
    edges = _hz(
        torch.linspace(
            _mel(torch.tensor(f_min)).item(), _mel(torch.tensor(f_max)).item(), num_channels + 2
        )
    ).double()
    freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    low, centre, high = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs - low) / (centre - low)
    falling = (high - freqs) / (high - centre)
    return torch.clamp(torch.minimum(rising, falling), min=0.0).float()


def log_mel_features(
    waveform: torch.Tensor,
    sample_rate: float,
    num_channels: int = 64,
    frame_ms: float = 25.0,
    hop_ms: float = 10.0,
    f_min: float = 50.0,
    f_max: float | None = None,
    dynamic_range: float = 1e-4,
) -> torch.Tensor:
    r"""Log mel energies :math:`\log(E + \rho \max E)` of a mono waveform, as
    ``[frames, num_channels]``: the floor :math:`\rho \max E` (``dynamic_range``
    :math:`\rho`, 40 dB by default) makes the features independent of the
    recording's gain and keeps near-silence and spectral leakage from producing
    events.

    Example::

        >>> import torch
        >>> from snntorch_bayes.audio import log_mel_features
        >>> log_mel_features(torch.zeros(8000), 8000, num_channels=16).shape
        torch.Size([101, 16])
    """
    waveform = torch.as_tensor(waveform, dtype=torch.float32)
    if waveform.dim() != 1 or waveform.numel() == 0:
        raise ValueError(f"waveform must be 1-D and non-empty, got shape {tuple(waveform.shape)}")
    frame = max(2, round(sample_rate * frame_ms / 1000))
    hop = max(1, round(sample_rate * hop_ms / 1000))
    n_fft = 1 << (frame - 1).bit_length()
    spectrum = torch.stft(
        waveform,
        n_fft,
        hop_length=hop,
        win_length=frame,
        window=torch.hann_window(frame),
        center=True,
        return_complex=True,
    )
    power = spectrum.abs().square()  # [bins, frames]
    energy = mel_filterbank(num_channels, n_fft, sample_rate, f_min, f_max) @ power
    floor = dynamic_range * energy.max() + torch.finfo(energy.dtype).tiny
    return torch.log(energy + floor).T


def delta_events(features: torch.Tensor, threshold: float, hop_us: int) -> np.ndarray:
    r"""Send-on-delta encoding of ``[frames, channels]`` features (see the
    module docstring): events at time ``frame * hop_us`` microseconds.

    Example::

        >>> import torch
        >>> from snntorch_bayes.audio import delta_events
        >>> ramp = torch.tensor([[0.0], [1.0], [2.5], [2.5]])
        >>> delta_events(ramp, threshold=1.0, hop_us=10_000).tolist()
        [(10000, 0, 1), (20000, 0, 1)]
    """
    if not (isinstance(threshold, (int, float)) and 0 < threshold < math.inf):
        raise ValueError(f"threshold must be in (0, inf), got {threshold!r}")
    y = np.asarray(features, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(f"features must be [frames, channels], got shape {y.shape}")
    reference = y[0].copy()
    times, channels, polarities = [], [], []
    for n in range(1, y.shape[0]):
        steps = np.trunc((y[n] - reference) / threshold).astype(np.int64)  # signed crossings
        reference += steps * threshold
        for polarity, count in ((1, np.clip(steps, 0, None)), (0, np.clip(-steps, 0, None))):
            fired = np.nonzero(count)[0]
            if fired.size:
                repeated = np.repeat(fired, count[fired])
                channels.append(repeated)
                times.append(np.full(repeated.size, n * hop_us, dtype=np.int64))
                polarities.append(np.full(repeated.size, polarity, dtype=np.int64))
    events = np.zeros(sum(c.size for c in channels), dtype=EVENT_DTYPE)
    if channels:
        events["t"] = np.concatenate(times)
        events["x"] = np.concatenate(channels)
        events["p"] = np.concatenate(polarities)
        events = events[np.argsort(events["t"], kind="stable")]
    return events


def encode_audio(
    waveform: torch.Tensor,
    sample_rate: float,
    num_channels: int = 64,
    threshold: float = 0.5,
    frame_ms: float = 25.0,
    hop_ms: float = 10.0,
    f_min: float = 50.0,
    f_max: float | None = None,
    dynamic_range: float = 1e-4,
) -> np.ndarray:
    """Audio to events: :func:`log_mel_features` then :func:`delta_events`
    (``threshold`` in nats of log energy).

    Example::

        >>> import math, torch
        >>> from snntorch_bayes.audio import encode_audio
        >>> t = torch.arange(8000) / 8000
        >>> tone = torch.sin(2 * math.pi * 1000 * t) * (t > 0.5)  # 1 kHz from 0.5 s
        >>> events = encode_audio(tone, 8000, num_channels=16)
        >>> events.dtype.names, int(events["t"].min()) >= 400_000
        (('t', 'x', 'p'), True)
    """
    features = log_mel_features(waveform, sample_rate, num_channels, frame_ms, hop_ms, f_min, f_max)
    hop_us = round(hop_ms * 1000)
    return delta_events(features, threshold, hop_us)
