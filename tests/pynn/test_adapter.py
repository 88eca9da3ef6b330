"""The sPyNNaker dialect on standard PyNN backends (neurosim.pynn.adapter): what it translates, read back from
pyNN.nest's own objects, and what the backend still refuses."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.pynn.adapter import spinnaker_dialect

nest = pytest.importorskip("pyNN.nest")


@pytest.fixture
def sim():
    adapted = spinnaker_dialect(nest, nearest=True)
    adapted.setup(timestep=1.0)
    yield adapted
    adapted.end()


def test_conventions_arrive_translated_in_nest(sim) -> None:
    pre = sim.Population(3, sim.SpikeSourceArray(spike_times=[5.0]))
    post = sim.Population(3, sim.IF_curr_exp(tau_refrac=0.0))
    post.set(v=-61.0)                                                # sPyNNaker: the initial v
    inh = sim.Projection(pre, post, sim.OneToOneConnector(), sim.StaticSynapse(weight=2.0, delay=1.0),
                         receptor_type="inhibitory")
    stdp = sim.STDPMechanism(timing_dependence=sim.SpikePairRule(tau_plus=3.0, tau_minus=3.0, A_plus=6.0,
                                                                 A_minus=3.0),
                             weight_dependence=sim.AdditiveWeightDependence(w_min=0.0, w_max=6.0), weight=1.0,
                             delay=1.0)
    plastic = sim.Projection(sim.PopulationView(pre, range(0, 3)), post, sim.OneToOneConnector(), stdp)
    across = sim.Projection(pre, post, sim.AllToAllConnector(allow_self_connections=False),
                            sim.StaticSynapse(weight=1.0, delay=1.0))
    assert post.get("tau_refrac") == 1.0                             # nearest: one step, NEST's minimum
    assert post.initial_values["v"].evaluate().tolist() == [-61.0] * 3
    assert inh.get("weight", format="array").diagonal().tolist() == [-2.0] * 3   # magnitude made negative
    a_plus = plastic.get("A_plus", format="list")
    assert {round(a, 12) for _, _, a in a_plus} == {1.0}             # absolute 6 nA over w_max 6 nA
    assert len(across) == 6                                          # i -> i dropped between two populations
    assert sim.StaticSynapse(weight=1.5, delay=2.0).delay == 2.0     # what sPyBlocks reads


def test_what_nest_refuses_it_still_refuses() -> None:
    strict = spinnaker_dialect(nest)
    strict.setup(timestep=1.0)
    with pytest.raises(Exception, match="Refractory time must be at least one time step"):
        strict.Population(1, strict.IF_curr_exp(tau_refrac=0.0))
        strict.run(1.0)
    strict.end()
    with pytest.raises(ValueError, match="nearest=True knows"):
        spinnaker_dialect(np, nearest=True)
