"""Property-based bad input (hypothesis): every public constructor and function of the core, drawn a bad value for
one field at a time, refuses it with the project's error, ``field = value is not allowed: allowed range`` (a
ValueError), never numpy's or Python's own exception, and never silently."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurosim import (
    STDP,
    AllToAll,
    FixedProbability,
    FromList,
    LIFParams,
    Network,
    OneToOne,
    PoissonSource,
    Population,
    Projection,
    Simulator,
    SpikeSourceArray,
    StateMonitor,
    WeightMonitor,
)
from neurosim.connectors import FixedNumberPre, FixedTotalNumber, Normal, Uniform

FORM = re.compile(r" = .* is not allowed: .+", re.S)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)

non_numbers = st.one_of(st.text(max_size=3), st.none(), st.booleans(), st.just(object()))
scalar_only = st.one_of(non_numbers, st.lists(st.integers(), min_size=2, max_size=2))  # where no per-neuron list goes
non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
negative = st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False, min_value=-1e12)
non_positive = st.one_of(negative, st.just(0.0))
not_a_count = st.one_of(st.integers(max_value=-1), st.floats(allow_nan=True), st.text(max_size=2), st.booleans())
not_a_bool = st.one_of(st.text(max_size=5), st.integers(), st.floats(allow_nan=False), st.none())


def refused(make) -> None:
    with pytest.raises(ValueError) as info:
        make()
    assert FORM.search(str(info.value)), str(info.value)


LIF_POSITIVE = ("tau_m_ms", "cm_nF", "tau_syn_e_ms", "tau_syn_i_ms")
LIF_FINITE = ("v_rest_mV", "v_reset_mV", "v_thresh_mV", "i_offset_nA", "v_init_mV", "tau_refrac_ms")


@SETTINGS
@given(field=st.sampled_from(LIF_POSITIVE + LIF_FINITE), value=st.one_of(non_numbers, non_finite))
def test_lif_parameters_refuse_non_numbers_and_non_finite(field: str, value) -> None:
    refused(lambda: LIFParams(**{field: value}))


@SETTINGS
@given(field=st.sampled_from(LIF_POSITIVE), value=non_positive)
def test_lif_time_constants_and_capacitance_must_be_positive(field: str, value: float) -> None:
    refused(lambda: LIFParams(**{field: value}))


@SETTINGS
@given(field=st.sampled_from(("v_rest_mV", "i_offset_nA", "v_init_mV")),
       value=st.floats(min_value=1.0000001e6, max_value=1e300))
def test_lif_voltages_and_currents_stay_in_range(field: str, value: float) -> None:
    refused(lambda: LIFParams(**{field: value}))
    refused(lambda: LIFParams(**{field: -value}))


@SETTINGS
@given(field=st.sampled_from(("tau_plus_ms", "tau_minus_ms")), value=st.one_of(non_positive, non_finite, scalar_only))
def test_stdp_time_constants(field: str, value) -> None:
    refused(lambda: STDP(**{field: value}))


@SETTINGS
@given(field=st.sampled_from(("A_plus", "A_minus", "w_min_nA", "w_max_nA")), value=st.one_of(negative, non_finite,
                                                                                              scalar_only))
def test_stdp_amplitudes_and_bounds(field: str, value) -> None:
    refused(lambda: STDP(**{field: value}))


@SETTINGS
@given(size=st.one_of(not_a_count, st.just(0), st.integers(min_value=2**31, max_value=2**62)))
def test_population_and_source_sizes(size) -> None:
    refused(lambda: Population("p", size))
    refused(lambda: PoissonSource("q", size, 5.0))


@SETTINGS
@given(rate=st.one_of(negative, non_finite, scalar_only))
def test_poisson_rate(rate) -> None:
    refused(lambda: PoissonSource("q", 3, rate))


@SETTINGS
@given(flag=not_a_bool)
def test_connector_flags_must_be_bools(flag) -> None:
    refused(lambda: AllToAll(allow_self_connections=flag))
    refused(lambda: FixedProbability(0.5, allow_self_connections=flag))
    refused(lambda: FixedTotalNumber(3, allow_self_connections=flag))
    refused(lambda: FixedNumberPre(2, with_replacement=flag))


@SETTINGS
@given(p=st.one_of(st.floats(min_value=1.0000001, max_value=1e9), negative, non_finite, scalar_only))
def test_connection_probability(p) -> None:
    refused(lambda: FixedProbability(p))


@SETTINGS
@given(seed=not_a_count)
def test_seeds_are_non_negative_integers(seed) -> None:
    refused(lambda: FixedProbability(0.5, seed=seed))
    refused(lambda: Uniform(0.0, 1.0, seed=seed))
    refused(lambda: Normal(1.0, 0.1, seed=seed))
    refused(lambda: Simulator(Network(populations=(Population("p", 2),)), "reference", seed=seed))


@SETTINGS
@given(index=st.one_of(st.integers(max_value=-1), st.floats(allow_nan=True), st.booleans()))
def test_from_list_indices(index) -> None:
    refused(lambda: FromList(np.array([index]), np.array([0])))


@SETTINGS
@given(times=st.one_of(st.lists(st.floats(allow_nan=False, allow_infinity=False, min_value=0, max_value=1e3),
                                min_size=1, max_size=3),  # a flat list: one neuron per time, never meant
                       st.just([[1.0, "2"]]), st.just([[[1.0]]]), st.just([[-1.0]]), st.just([[2.0, 1.0]]),
                       st.just([[math.nan]])))
def test_spike_source_times(times) -> None:
    refused(lambda: SpikeSourceArray("s", times))


@SETTINGS
@given(ids=st.one_of(st.tuples(st.floats(allow_nan=True)), st.tuples(st.text(min_size=1, max_size=2)),
                     st.tuples(st.integers(max_value=-1)), st.just(())),
       every=st.one_of(non_positive, non_finite, scalar_only))
def test_monitors(ids, every) -> None:
    refused(lambda: StateMonitor("p", ids))
    refused(lambda: WeightMonitor("w", every))


@SETTINGS
@given(dt=st.one_of(non_positive, non_finite, scalar_only))
def test_time_step(dt) -> None:
    refused(lambda: Network(dt_ms=dt, populations=(Population("p", 2),)))


@SETTINGS
@given(weight=st.one_of(non_finite, non_numbers), delay=st.one_of(st.just(0), st.just(1.5), non_finite,
                                                                   st.integers(max_value=0)))
def test_projection_weight_and_delay(weight, delay) -> None:
    pops = (Population("a", 2), Population("b", 2))

    def net(**kw):
        return Network(populations=pops, projections=(Projection("c", "a", "b", OneToOne(), **kw),))

    refused(lambda: net(weight_nA=weight))
    refused(lambda: net(weight_nA=1.0, delay_steps=delay))


@SETTINGS
@given(duration=st.one_of(negative, non_finite, scalar_only, st.just(0.05)))
def test_run_durations(duration) -> None:
    sim = Simulator(Network(dt_ms=0.1, populations=(Population("p", 2),)), "reference")
    refused(lambda: sim.run(duration))
    refused(lambda: sim.draw_inputs(duration))


# -- the memories (every registered one, through the registry and their own constructors) --------------------

MEMORIES = ("hopfield", "hopfield-marginalist", "dam-poly", "dam-exp", "sparsey", "sparsey-decay", "dendrites")


@SETTINGS
@given(name=st.sampled_from(MEMORIES), n=st.one_of(not_a_count, st.just(0)))
def test_memory_sizes(name: str, n) -> None:
    from neurosim.models import create

    refused(lambda: create(name, n_units=n, sparsity=0.1))


@SETTINGS
@given(name=st.sampled_from(MEMORIES), f=st.one_of(non_positive, st.floats(min_value=1.0000001, max_value=1e6),
                                                   non_finite, scalar_only))
def test_memory_sparsity(name: str, f) -> None:
    from neurosim.models import create

    refused(lambda: create(name, n_units=50, sparsity=f))


@SETTINGS
@given(name=st.sampled_from(MEMORIES), seed=not_a_count)
def test_memory_seeds(name: str, seed) -> None:
    from neurosim.models import create

    refused(lambda: create(name, n_units=50, sparsity=0.1, seed=seed))


@SETTINGS
@given(name=st.sampled_from(MEMORIES), backend=st.one_of(st.text(max_size=4), st.none(), st.integers()))
def test_memory_engines(name: str, backend) -> None:
    from neurosim.models import create

    refused(lambda: create(name, n_units=50, sparsity=0.1, backend=backend))


@SETTINGS
@given(field=st.sampled_from(("g_low", "gamma", "chi", "sigmoid_width", "lambda_u", "decay", "min_active")),
       value=st.one_of(negative, non_finite, scalar_only))
def test_sparsey_csa_parameters(field: str, value) -> None:
    from neurosim.models.sparsey import CSAParams

    refused(lambda: CSAParams(**{field: value}))


@SETTINGS
@given(name=st.sampled_from(MEMORIES), item=st.one_of(st.just("abc"), st.just(None), st.just([[1, 0]]),
                                                      st.lists(st.booleans(), min_size=3, max_size=3)))
def test_memory_items(name: str, item) -> None:
    from neurosim.models import create

    memory = create(name, n_units=50, sparsity=0.1)
    refused(lambda: memory.store(item))
    refused(lambda: memory.recognize(item))
