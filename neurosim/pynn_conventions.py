"""PyNN's names, units and the two dialects of PyNN scripts: one table for both directions.

``neurosim.pynn`` (PyNN scripts in) and ``neurosim.hardware.pynn`` (networks exported as PyNN
scripts) read their translations from here, so the two directions cannot drift. Units are the
same on both sides (ms, mV, nA, nF): every factor is 1.

Dialects: what a PyNN script means depends on the simulator it was written for.

======================================  ==============================  ================================
convention                              ``"spinnaker"`` (sPyNNaker 7)    ``"pynn"`` (the PyNN standard)
======================================  ==============================  ================================
inhibitory weights (current synapses)   positive (the receptor gives    negative
                                        the sign; sPyNNaker takes abs)
additive STDP ``A_plus``/``A_minus``    absolute: the step is A nA      relative: the step is A w_max
``AllToAllConnector(allow_self_         also drops i -> i between two    drops i -> i only within one
connections=False)``                    populations (sPyNNaker's         population
                                        on-board generator)
``Population.set(v=...)``               sets the initial v              an error (use ``initialize``)
``record("v")`` over T ms               T / dt samples, at the start    T / dt + 1 samples: t = 0 and
                                        of each tick (the board's)      the end of every tick
======================================  ==============================  ================================

Multiplicative STDP's A is a factor of (w_max - w) or w in both. neurosim's own STDP takes A
relative to w_max (:mod:`neurosim.plasticity`), so an absolute additive A is divided by w_max on
the way in and multiplied on the way out (:meth:`Dialect.stdp_factor`).
"""

from __future__ import annotations

from dataclasses import dataclass

# (PyNN IF_curr_exp name, neurosim LIFParams field, factor)
LIF_TRANSLATION: tuple[tuple[str, str, float], ...] = (
    ("tau_m", "tau_m_ms", 1.0),
    ("cm", "cm_nF", 1.0),
    ("v_rest", "v_rest_mV", 1.0),
    ("v_reset", "v_reset_mV", 1.0),
    ("v_thresh", "v_thresh_mV", 1.0),
    ("tau_refrac", "tau_refrac_ms", 1.0),
    ("tau_syn_E", "tau_syn_e_ms", 1.0),
    ("tau_syn_I", "tau_syn_i_ms", 1.0),
    ("i_offset", "i_offset_nA", 1.0),
)
INITIAL_TRANSLATION: tuple[tuple[str, str, float], ...] = (("v", "v_init_mV", 1.0),)
STDP_TRANSLATION: tuple[tuple[str, str, float], ...] = (
    ("tau_plus", "tau_plus_ms", 1.0),
    ("tau_minus", "tau_minus_ms", 1.0),
)
WEIGHT_DEPENDENCE = {"additive": "AdditiveWeightDependence", "multiplicative": "MultiplicativeWeightDependence"}


@dataclass(frozen=True)
class Dialect:
    """The conventions a PyNN script is written in (module docstring)."""

    name: str
    inhibitory_sign: float             # the sign of inhibitory weights in scripts
    stdp_absolute: bool                # additive STDP: A is the step in nA (True) or relative to w_max
    all_to_all_self_across: bool       # allow_self_connections=False drops i -> i between two populations too
    set_initializes: bool              # Population.set(v=...) sets the initial membrane potential
    v_sample_at_end: bool              # record("v") also samples the end of the last tick (T / dt + 1 samples)

    def stdp_factor(self, multiplicative: bool, w_max: float) -> float:
        """A script's A over neurosim's (relative to w_max): w_max for an absolute additive A, else 1."""
        return w_max if self.stdp_absolute and not multiplicative else 1.0


def range_as_slice(selector):
    """A ``range`` as the slice it is: sPyNNaker's views take ranges, PyNN's take slices and arrays."""
    return slice(selector.start, selector.stop, selector.step) if isinstance(selector, range) else selector


DIALECTS: dict[str, Dialect] = {
    "spinnaker": Dialect("spinnaker", 1.0, True, True, True, False),
    "pynn": Dialect("pynn", -1.0, False, False, False, True),
}
