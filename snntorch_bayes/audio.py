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

The front end works at any sample rate (frames and hops are in
milliseconds, the filterbank spans ``f_min`` to ``f_max``); to give
recordings at different rates the same channels, bring them to one rate
first with :func:`resample`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = [
    "EVENT_DTYPE",
    "delta_events",
    "encode_audio",
    "log_mel_features",
    "mel_filterbank",
    "resample",
]

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
    events.  The waveform must span at least one frame (``frame_ms``).

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
    if waveform.numel() < frame:
        raise ValueError(
            f"waveform has {waveform.numel()} samples, fewer than one {frame_ms:g} ms frame "
            f"({frame} samples at {sample_rate:g} Hz)"
        )
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


def resample(
    waveform: torch.Tensor,
    orig_rate: int,
    new_rate: int,
    zero_crossings: int = 16,
    rolloff: float = 0.9,
    beta: float = 8.0,
) -> torch.Tensor:
    r"""Band-limited resampling of a mono waveform from ``orig_rate`` to
    ``new_rate`` Hz: every output sample :math:`y_n`, at time
    :math:`n / f_\text{new}`, is the input interpolated there with a
    Kaiser-windowed sinc low-pass filter,

    .. math::

        y_n = \sum_i x_i \, 2 f_c / f_\text{orig} \,
              \operatorname{sinc}\big(2 f_c (n / f_\text{new} - i / f_\text{orig})\big)
              \, w\big(n / f_\text{new} - i / f_\text{orig}\big),

    with cutoff :math:`f_c` = ``rolloff`` times the lower Nyquist frequency
    (so downsampling removes what the new rate cannot hold instead of
    aliasing it), :math:`w` a Kaiser window (``beta``) spanning
    ``zero_crossings`` zeros of the sinc on each side, and zeros beyond the
    waveform's ends.  The output has :math:`\lceil N f_\text{new} /
    f_\text{orig} \rceil` samples, the same duration.  Positions are exact
    (integer arithmetic), so long inputs do not drift.

    Example (1 s at 44.1 kHz becomes 1 s at 8 kHz)::

        >>> import math, torch
        >>> from snntorch_bayes.audio import resample
        >>> t = torch.arange(44100) / 44100
        >>> tone = resample(torch.sin(2 * math.pi * 440 * t), 44100, 8000)
        >>> tone.shape
        torch.Size([8000])
        >>> exact = torch.sin(2 * math.pi * 440 * torch.arange(8000) / 8000)
        >>> bool((tone - exact)[100:-100].abs().max() < 1e-3)
        True

    :param waveform: 1-D samples
    :param orig_rate: the waveform's sample rate, a positive integer (Hz)
    :param new_rate: the wanted sample rate, a positive integer (Hz)
    :param zero_crossings: half-length of the filter, in zeros of the sinc.
        Defaults to 16
    :param rolloff: cutoff as a fraction of the lower Nyquist frequency.
        Defaults to 0.9
    :param beta: the Kaiser window's shape parameter. Defaults to 8.0
    :returns: float32 samples at ``new_rate``
    """
    for name, rate in (("orig_rate", orig_rate), ("new_rate", new_rate)):
        if isinstance(rate, bool) or not isinstance(rate, int) or rate < 1:
            raise ValueError(f"{name} must be a positive integer, got {rate!r}")
    if not 0 < rolloff <= 1:
        raise ValueError(f"rolloff must be in (0, 1], got {rolloff!r}")
    if not isinstance(zero_crossings, int) or isinstance(zero_crossings, bool):
        raise ValueError(f"zero_crossings must be an integer >= 1, got {zero_crossings!r}")
    if zero_crossings < 1:
        raise ValueError(f"zero_crossings must be an integer >= 1, got {zero_crossings!r}")
    x = torch.as_tensor(waveform, dtype=torch.float64)
    if x.dim() != 1:
        raise ValueError(f"waveform must be 1-D, got shape {tuple(x.shape)}")
    if orig_rate == new_rate or x.numel() == 0:
        return x.float().clone()
    common = math.gcd(orig_rate, new_rate)
    up, down = new_rate // common, orig_rate // common
    n_out = -(-x.numel() * up // down)
    scale = rolloff * min(orig_rate, new_rate) / orig_rate  # 2 f_c / f_orig
    half = zero_crossings / scale  # the window's half-width, in input samples
    width = math.ceil(half)
    offsets = torch.arange(-width, width + 1)
    padded = torch.nn.functional.pad(x, (width, width + 1))
    norm = torch.special.i0(torch.tensor(beta, dtype=torch.float64))
    out = torch.empty(n_out, dtype=torch.float64)
    chunk = max(1, (1 << 21) // offsets.numel())
    for start in range(0, n_out, chunk):
        position = torch.arange(start, min(start + chunk, n_out)) * down  # times up
        base = position // up  # the input sample at or before the output time
        u = ((position % up).double() / up)[:, None] - offsets.double()  # time - input, samples
        t = (u / half).clamp(-1.0, 1.0)
        window = torch.special.i0(beta * torch.sqrt(1.0 - t * t)) / norm
        kernel = scale * torch.sinc(scale * u) * window * (u.abs() <= half)
        out[start : start + len(base)] = (padded[base[:, None] + offsets + width] * kernel).sum(1)
    return out.float()
