r"""Export a neurosim :class:`~neurosim.Network` to PyNN: a standalone script, a live build, SpiNNaker checks.

One translation (:func:`translate`) turns a network into a *plan*: plain data that
names PyNN calls (:class:`Call`) and their arguments in PyNN's units. Two small
interpreters read the same plan: :func:`export_script` prints it as a readable
Python script (the simulator module chosen at run time, ``--simulator
brian2|spiNNaker|nest``), :func:`build_live` calls it on an imported PyNN module.
:func:`check_board` checks SpiNNaker's constraints before export and
:func:`map_on_virtual_board` runs the exported script through sPyNNaker on a
virtual SpiNN-5 board (partition, place, route, generate data) and reports the
chips and cores used.

This module is the public facade; the code lives in :mod:`~neurosim.hardware.pynn_translate`
(targets, plan, :func:`translate`), :mod:`~neurosim.hardware.pynn_live` (live build),
:mod:`~neurosim.hardware.pynn_script` (standalone script) and
:mod:`~neurosim.hardware.spinnaker_board` (board checks, virtual board);
``ca3_spike_inputs`` lives in :mod:`neurosim.hardware.ca3_pynn`.

Mapping (neurosim's units are PyNN's: ms, mV, nA, nF), per target:

===========================  ==================================  ==================================
neurosim                     ``target="generic"`` (brian2, nest)  ``target="spinnaker"`` (sPyNNaker 7)
===========================  ==================================  ==================================
LIFParams ``x_unit``         IF_curr_exp ``x`` (factor 1)         same
``v_init_mV``                ``Population.initialize(v=...)``     same
weight (nA, >= 0) + receptor inhibitory weights negative         weights positive (sPyNNaker takes
                             (standard PyNN current synapses)     ``abs`` per projection; the
                                                                  receptor gives the sign)
``delay_steps``              ``delay_steps * dt_ms`` ms           same
STDP additive ``A_plus``     ``A_plus`` (relative to w_max)       ``A_plus * w_max_nA`` (sPyNNaker 7
                                                                  applies A itself as the step)
STDP multiplicative ``A``    ``A`` (factor of w_max - w)          same (written unscaled)
``dendritic_delay_fraction`` chosen at run time from the simulator: brian2 accepts only 0 (axonal),
                             nest and spiNNaker only 1 (dendritic, neurosim's own semantics)
===========================  ==================================  ==================================

Connectors: OneToOne -> OneToOneConnector, AllToAll -> AllToAllConnector (between two
populations always with self connections: neurosim keeps i -> i there), FromList ->
FromListConnector (per-connection weight and delay columns), FixedProbability ->
FromListConnector of neurosim's own synapses (``resolve_random=True``, the same
synapses as neurosim) or FixedProbabilityConnector with a NumpyRNG seeded by the
connector's seed (``resolve_random=False``, same statistics, other synapses). A
projection with per-connection weights or delays under a rule connector becomes a
FromListConnector. Spike times are moved to their tick (``round(t / dt) dt``) as
neurosim does.

``target="brian2-spinnaker"`` (SpiNNaker semantics on pyNN.brian2) is ``"generic"`` plus
four adjustments, applied to any network, that make pyNN.brian2 at dt = 1 ms run
neurosim's / sPyNNaker's tick (tuned on the CA3 memory: with all four, its three published
experiments give the published recalls and the same spikes as neurosim in every population;
removing any one breaks them, ``tests/hardware/test_ca3_pynn.py``, ``docs/hardware.md``):

- ``delay_shift_steps = 1``: every delay one step shorter (``max(d - 1, 0)`` steps). On
  Brian2 a spike detected at step t and delivered with delay d acts on v during step
  t + d + 1 (a hop takes d + dt); SpiNNaker's takes d. With it every hop, and so every
  readout time, matches. Zero delays then occur: the script and :func:`setup_simulator`
  call ``sim.setup(..., min_delay="auto")``.
- ``refractory_extra_steps = 1``: ``tau_refrac -> (ceil(tau_refrac / dt) + 1) dt`` (CA3:
  1 ms -> 2 ms). Brian2's refractory period of 1 ms at dt = 1 ms lets a cell fire on the
  very next step; SpiNNaker freezes it for ``ceil(tau_refrac / dt)`` whole steps.
- ``stdp_window_shift = True``: additive and multiplicative ``A_plus x exp(-k dt / tau_plus)``,
  ``A_minus x exp(+k dt / tau_minus)`` with ``k = d + d'`` steps (d the network's delay,
  d' the exported one; CA3's learned synapses: 1 + 0, so e^(-1/3) = 0.717 and e^(1/3) = 1.396).
  SpiNNaker (dendritic delay) pairs a post spike at s with a pre spike at t at
  Delta = s + d - t, pyNN.brian2 (axonal delay d', pre pathway before post) at
  Delta = s - t - d': the same window shifted by k steps, so each potentiation is
  exp(-k dt / tau_plus) too large and each depression exp(k dt / tau_minus) too small.
  (Pairs whose Delta changes sign under the shift are not corrected; a plastic
  projection must have one delay.)
- ``psp_match = True``: every weight onto a population, and ``w_min``/``w_max`` of plastic
  synapses, times :func:`psp_scale` of the post cell (cm, tau_m, the receptor's tau_syn,
  dt). SpiNNaker adds ``init w`` (``init = tau_syn/dt (1 - exp(-dt/tau_syn))``, 0.289 at
  tau_syn = 0.3 ms) to a current held constant over the step; Brian2 integrates exactly a
  current ``w exp(-t/tau_syn)`` that has mostly decayed by the step's end. The jump of v
  at the step's end then differs by cell (CA3: x1.673 for 0.14 nF / 0.5 ms cells, x1.084
  for 0.27 nF / 3 ms cells).

Brian2 settings of every target (script and :func:`setup_simulator`): Brian2's numpy code
generation (the default Cython target compiles every object: minutes for the CA3 circuit)
and ``brian2.defaultclock.dt = dt`` (pyNN.brian2's SpikeSourceArray otherwise runs on
Brian2's 0.1 ms default clock); "brian2-spinnaker" also sets ``min_delay="auto"``. pyNN.brian2's ``STDPMechanism`` needs
``dendritic_delay_fraction=0`` (all its delays are axonal) and steps ``w_max * A * trace``
(A relative, as neurosim's). Tuned and checked at dt = 1 ms only.

Known engine differences (sPyNNaker 7.x's C sources; docs/core.md, "SpiNNaker's tick"): sPyNNaker
7.x runs neurosim's tick exactly; pyNN.brian2 delivers a spike over delay ``d``
after ``d + dt`` and fires on ``v > v_thresh`` (strict), so a feed-forward chain of
``k`` hops shows every spike ``k dt`` later than neurosim (tested exactly).

sPyNNaker 7.4.1 issues met here: ``STDPMechanism`` raises unless
``dendritic_delay_fraction == 1`` (and pyNN.brian2 raises unless it is 0: the
script picks it per simulator); ``OneToOneConnector.create_synaptic_block`` (host
generation, used on virtual boards) filters PopulationViews with
``a <= hi & a >= lo`` (operator precedence: ``&`` binds first) and keeps
``pre <= size`` (off by one): the exporter never connects views and only pairs
equal sizes, so OneToOneConnector is exported as is.
"""

from __future__ import annotations

from neurosim.hardware.pynn_live import TABLES, build_live, setup_options, setup_simulator, spikes_of
from neurosim.hardware.pynn_script import export_script, read_results
from neurosim.hardware.pynn_translate import (
    DENDRITIC_DELAY_FRACTION,
    SIMULATOR_MODULES,
    SIMULATORS,
    TARGETS,
    Call,
    Plan,
    PopulationPlan,
    ProjectionPlan,
    RunTime,
    SpikeInputs,
    Target,
    TargetRules,
    psp_scale,
    translate,
)
from neurosim.hardware.spinnaker_board import (
    MAX_DELAY_STEPS,
    SPINN5_APP_CORES,
    SPINN5_CHIPS,
    SPINNAKER_DT_MS,
    SPINNAKER_NEURONS_PER_CORE,
    SPYNNAKER_CFG,
    check_board,
    map_on_virtual_board,
    weight_scales,
)

__all__ = ["DENDRITIC_DELAY_FRACTION", "MAX_DELAY_STEPS", "SIMULATORS", "SIMULATOR_MODULES", "SPINN5_APP_CORES",
           "SPINN5_CHIPS", "SPINNAKER_DT_MS", "SPINNAKER_NEURONS_PER_CORE", "SPYNNAKER_CFG", "TABLES", "TARGETS",
           "Call", "Plan", "PopulationPlan", "ProjectionPlan", "RunTime", "SpikeInputs", "Target", "TargetRules",
           "build_live", "check_board", "export_script", "map_on_virtual_board", "psp_scale",
           "read_results", "setup_options", "setup_simulator", "spikes_of", "translate", "weight_scales"]
