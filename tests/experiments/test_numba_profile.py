"""experiments/numba_profile.py, the profile docs/benchmarks.md cites, on a small circuit."""

from __future__ import annotations

import sys

import pytest

from neurosim.experiments import numba_profile


def test_neuron_update_profile_reports_a_cost_and_a_rate() -> None:
    ns, rate = numba_profile.neuron_update_ns(n=200, duration_ms=20.0)
    assert 0.0 < ns < 1e4
    assert rate > 1.0  # the currents put the neurons just above threshold: they fire


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_ca3_delivery_profile_on_a_small_circuit() -> None:
    out = numba_profile.ca3_delivery(20)
    assert out["synapses"] > 0 and out["resident_bytes_per_synapse"] > 0
    on, off, static = (out[f"ns per event, {k}"] for k in ("learning on", "learning off", "as static rows"))
    assert min(on, off, static) > 0.0
