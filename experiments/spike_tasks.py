"""Generated long-horizon spike tasks (no downloads), and a loader for SHD-style HDF5 files.

**Spike digits**: each of 10 classes is a spatiotemporal template, every channel firing as a
Poisson process at ``rate_hz`` over ``duration_ms`` (times drawn once per class). A sample
of a class jitters every template spike by N(0, ``jitter_ms``), drops each with probability
``drop`` and adds background spikes at ``noise_hz`` per channel.

- :func:`adding`: two spike digits in sequence (the second starts at ``duration_ms``); the label is
  the sum of the classes (19 classes), as in SHD-Adding.
- :func:`delayed_recall`: a cue digit, then ``delay_ms`` of background spikes at the digits' mean
  rate (a distractor with the same statistics and no structure), then the answer: the cue's
  class.

Samples are binned (:func:`bin_spikes`, counts per bin of ``bin_ms``) to (time, channels) float
arrays, so the horizon in steps is the trial length over the bin.

:func:`load_shd` reads the Spiking Heidelberg Digits HDF5 layout (``spikes/times`` in s,
``spikes/units``, ``labels``) from a local path; the file is never downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurosim import _checks as ck


@dataclass(frozen=True)
class SpikeDigits:
    """Class templates: ``times[c][k]`` and ``channels[c][k]`` list class ``c``'s template spikes."""

    times: list[np.ndarray]
    channels: list[np.ndarray]
    n_channels: int
    duration_ms: float
    rate_hz: float
    jitter_ms: float
    drop: float
    noise_hz: float

    def sample(self, cls: int, rng: np.random.Generator, offset_ms: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """(times_ms, channels) of one jittered, thinned, noisy sample of class ``cls``, shifted by ``offset_ms``."""
        keep = rng.random(self.times[cls].size) >= self.drop
        t = self.times[cls][keep] + rng.normal(0.0, self.jitter_ms, keep.sum())
        ch = self.channels[cls][keep]
        nt, nch = noise(rng, self.n_channels, self.duration_ms, self.noise_hz)
        t, ch = np.concatenate([t, nt]), np.concatenate([ch, nch])
        inside = (t >= 0) & (t < self.duration_ms)
        return t[inside] + offset_ms, ch[inside]


def noise(rng: np.random.Generator, n_channels: int, duration_ms: float, rate_hz: float) -> tuple[np.ndarray,
                                                                                                  np.ndarray]:
    """Poisson spikes at ``rate_hz`` on every channel over ``duration_ms``: (times_ms, channels)."""
    n = rng.poisson(rate_hz * duration_ms / 1000.0 * n_channels)
    return rng.uniform(0.0, duration_ms, n), rng.integers(0, n_channels, n)


def spike_digits(rng: np.random.Generator, *, n_channels: int = 100, duration_ms: float = 250.0,
                 rate_hz: float = 8.0, jitter_ms: float = 4.0, drop: float = 0.1, noise_hz: float = 1.0,
                 n_classes: int = 10) -> SpikeDigits:
    ck.count("n_channels", n_channels)
    ck.positive("duration_ms", duration_ms, "ms")
    ck.positive("rate_hz", rate_hz, "Hz")
    ck.non_negative("jitter_ms", jitter_ms, "ms")
    ck.in_range("drop", drop, 0.0, 0.99)
    ck.non_negative("noise_hz", noise_hz, "Hz")
    ck.count("n_classes", n_classes, minimum=2)
    times, channels = [], []
    for _ in range(n_classes):
        t, ch = noise(rng, n_channels, duration_ms, rate_hz)
        times.append(t)
        channels.append(ch)
    return SpikeDigits(times, channels, n_channels, float(duration_ms), float(rate_hz), float(jitter_ms),
                       float(drop), float(noise_hz))


def bin_spikes(times_ms: np.ndarray, channels: np.ndarray, n_channels: int, length_ms: float,
               bin_ms: float) -> np.ndarray:
    """Spike counts per (bin, channel): (ceil(length / bin), n_channels) float32."""
    ck.positive("bin_ms", bin_ms, "ms")
    n_bins = int(np.ceil(round(length_ms / bin_ms, 9)))
    out = np.zeros((n_bins, n_channels), dtype=np.float32)
    idx = np.floor(np.asarray(times_ms) / bin_ms).astype(np.int64)
    ok = (idx >= 0) & (idx < n_bins)
    np.add.at(out, (idx[ok], np.asarray(channels)[ok]), 1.0)
    return out


def adding(digits: SpikeDigits, n: int, bin_ms: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` two-digit trials: (inputs (n, time, channels), labels = class sum in 0..18)."""
    ck.count("n", n)
    length = 2 * digits.duration_ms
    xs, ys = [], []
    for _ in range(n):
        a, b = rng.integers(0, len(digits.times), 2)
        ta, ca = digits.sample(int(a), rng)
        tb, cb = digits.sample(int(b), rng, offset_ms=digits.duration_ms)
        xs.append(bin_spikes(np.concatenate([ta, tb]), np.concatenate([ca, cb]), digits.n_channels, length, bin_ms))
        ys.append(a + b)
    return np.stack(xs), np.array(ys, dtype=np.int64)


def delayed_recall(digits: SpikeDigits, n: int, delay_ms: float, bin_ms: float, rng: np.random.Generator
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` trials: a cue digit, ``delay_ms`` of background at the digits' rate, answer = the cue's class."""
    ck.count("n", n)
    ck.non_negative("delay_ms", delay_ms, "ms")
    length = digits.duration_ms + delay_ms
    xs, ys = [], []
    for _ in range(n):
        c = int(rng.integers(0, len(digits.times)))
        tc, cc = digits.sample(c, rng)
        td, cd = noise(rng, digits.n_channels, delay_ms, digits.rate_hz + digits.noise_hz)
        xs.append(bin_spikes(np.concatenate([tc, td + digits.duration_ms]), np.concatenate([cc, cd]),
                             digits.n_channels, length, bin_ms))
        ys.append(c)
    return np.stack(xs), np.array(ys, dtype=np.int64)


def load_shd(path: str | Path, *, bin_ms: float = 10.0, n_channels: int = 700, max_ms: float = 1000.0,
             limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Spiking Heidelberg Digits (or SHD-Adding) from a local HDF5 file: (inputs (n, time, channels), labels).

    The layout is the published one: ``spikes/times`` and ``spikes/units`` (ragged arrays, times in
    seconds) and ``labels``. Spikes after ``max_ms`` are dropped; ``limit`` reads the first samples only.
    """
    import h5py

    path = Path(path)
    if not path.exists():
        ck.fail("path", str(path), "an existing SHD HDF5 file (download it yourself: neurosim never does)")
    with h5py.File(path, "r") as f:
        for key in ("spikes/times", "spikes/units", "labels"):
            if key not in f:
                ck.fail("SHD file", str(path), f"an HDF5 file with a '{key}' dataset")
        times, units, labels = f["spikes/times"], f["spikes/units"], np.asarray(f["labels"], dtype=np.int64)
        n = len(labels) if limit is None else min(limit, len(labels))
        xs = [bin_spikes(np.asarray(times[i]) * 1000.0, np.asarray(units[i]), n_channels, max_ms, bin_ms)
              for i in range(n)]
    return np.stack(xs), labels[:n]
