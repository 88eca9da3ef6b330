"""sPyNNaker scripts on another PyNN simulator: the dialect's conventions translated for ``pyNN.nest``,
``pyNN.brian2`` or any standard PyNN backend.

``spinnaker_dialect(pyNN.nest)`` returns a module-like object that a script written for
sPyNNaker 7 can use in place of ``spynnaker.pyNN``: it is the backend module with the
conventions of :data:`neurosim.pynn_conventions.DIALECTS` ``["spinnaker"]`` translated into
standard PyNN calls (``Population.set(v=...)`` as ``initialize``, inhibitory weights as given
magnitudes made negative, absolute additive STDP amplitudes divided by ``w_max``,
``AllToAllConnector(allow_self_connections=False)`` between two populations without the i -> i
pairs, views from ``range`` selectors, ``StaticSynapse.weight`` / ``.delay``). It exists to compare
simulators on the same script (docs/pynn.md, ``neurosim bench pynn``): what the backend itself
refuses (NEST: a refractory period under one step, a spike source at t = dt; Brian2: tau_m equal
to tau_syn, dendritic delays in STDP) it still refuses, with its own error, unless ``nearest=True``
asks for the nearest model the backend takes (:data:`NEAREST`): ``tau_refrac`` raised to one step
(NEST), STDP delays taken as axonal (``dendritic_delay_fraction=0``, Brian2), spike sources on the
script's time step (Brian2). PyNN's connectors
come with the same NumPy 2 fix as ``neurosim.pynn``'s (:mod:`neurosim.pynn.connectors`).
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

from neurosim.pynn_conventions import DIALECTS, range_as_slice

# what each backend refuses and the nearest it takes (nearest=True): a refractory period of at least one
# step (NEST's iaf_psc_exp_ps), STDP delays taken as dendritic (NEST) or axonal (pyNN.brian2), and
# pyNN.brian2's SpikeSourceArray on the script's time step (it runs on Brian2's 0.1 ms default clock)
NEAREST: dict[str, dict[str, Any]] = {
    "pyNN.nest": {"refractory_step": True, "dendritic_delay_fraction": 1.0, "source_clock": False},
    "pyNN.brian2": {"refractory_step": False, "dendritic_delay_fraction": 0.0, "source_clock": True},
}


def _base_value(model, name: str) -> Any:
    return model.parameter_space[name].base_value


def module_copy(sim: types.ModuleType, name: str) -> types.ModuleType:
    """A new module holding what ``sim`` holds, to replace some of it."""
    out = types.ModuleType(name, sim.__doc__)
    out.__dict__.update({k: v for k, v in vars(sim).items() if not k.startswith("__")})
    return out


def _negated(synapse_type, static_cls, backend_static_cls):
    """An inhibitory static synapse with its magnitudes made negative (standard PyNN's sign)."""
    if not isinstance(synapse_type, backend_static_cls):
        raise ValueError(f"synapse_type = {type(synapse_type).__name__} on the inhibitory receptor is not translated "
                         "by spinnaker_dialect: StaticSynapse (its weights made negative)")
    weight = _base_value(synapse_type, "weight")
    if not isinstance(weight, int | float | np.ndarray | list | tuple):
        raise ValueError(f"inhibitory StaticSynapse weight = {weight!r} is not translated by spinnaker_dialect: "
                         "numbers (a distribution's values cannot be made negative before they are drawn)")
    magnitude = np.abs(np.asarray(weight, dtype=float))
    return static_cls(weight=-magnitude if magnitude.ndim else -float(magnitude),
                      delay=_base_value(synapse_type, "delay"))


def spinnaker_dialect(sim: types.ModuleType, nearest: bool = False) -> types.ModuleType:
    """``sim`` (a PyNN backend module) taking scripts written in sPyNNaker 7's conventions; ``nearest``:
    what the backend refuses replaced by the nearest it takes (module docstring)."""
    from pyNN import connectors

    from neurosim.pynn.connectors import CONNECTORS

    dialect = DIALECTS["spinnaker"]
    out = module_copy(sim, f"{sim.__name__}[spinnaker dialect]")
    out.__dict__.update({name: cls for name, cls in CONNECTORS.items()
                         if getattr(sim, name, None) is getattr(connectors, name)})

    rules = NEAREST.get(sim.__name__, {}) if nearest else {}
    if nearest and sim.__name__ not in NEAREST:
        raise ValueError(f"nearest=True knows {sorted(NEAREST)}, not {sim.__name__}")
    if rules.get("source_clock"):
        def setup(timestep=0.1, *args, **kwargs):  # PyNN's default time step
            import brian2

            brian2.defaultclock.dt = timestep * brian2.ms
            return sim.setup(timestep, *args, **kwargs)

        out.setup = setup
    if rules.get("refractory_step"):
        def if_curr_exp(**parameters):
            step = sim.get_time_step()
            refractory = parameters.get("tau_refrac", sim.IF_curr_exp.default_parameters["tau_refrac"])
            return sim.IF_curr_exp(**{**parameters, "tau_refrac": max(refractory, step)})

        out.IF_curr_exp = if_curr_exp

    def set_initializes(self, **parameters) -> None:
        if "v" in parameters:
            self.initialize(v=parameters.pop("v"))
        if parameters:
            sim.Population.set(self, **parameters)

    out.Population = type("Population", (sim.Population,), {"set": set_initializes})

    def population_view(parent, selector, label=None):
        return sim.PopulationView(parent, range_as_slice(selector), label)

    out.PopulationView = population_view
    out.StaticSynapse = type("StaticSynapse", (sim.StaticSynapse,), {
        "weight": property(lambda self: _base_value(self, "weight")),
        "delay": property(lambda self: _base_value(self, "delay"))})

    def stdp_mechanism(timing_dependence=None, weight_dependence=None, **kwargs):
        additive = type(weight_dependence).__name__ == "AdditiveWeightDependence"
        if type(timing_dependence).__name__ == "SpikePairRule":
            factor = dialect.stdp_factor(not additive, float(_base_value(weight_dependence, "w_max")))
            timing = {name: _base_value(timing_dependence, name) for name in ("tau_plus", "tau_minus")}
            timing |= {name: _base_value(timing_dependence, name) / factor for name in ("A_plus", "A_minus")}
            timing_dependence = sim.SpikePairRule(**timing)
        if "dendritic_delay_fraction" in rules:
            kwargs["dendritic_delay_fraction"] = rules["dendritic_delay_fraction"]
        return sim.STDPMechanism(timing_dependence=timing_dependence, weight_dependence=weight_dependence, **kwargs)

    out.STDPMechanism = stdp_mechanism

    def projection(pre, post, connector, synapse_type=None, source=None, receptor_type=None, space=None, label=None):
        synapse_type = synapse_type or out.StaticSynapse()
        if receptor_type == "inhibitory":
            synapse_type = _negated(synapse_type, out.StaticSynapse, sim.StaticSynapse)
        if (type(connector).__name__ == "AllToAllConnector" and not connector.allow_self_connections
                and dialect.all_to_all_self_across and pre is not post):
            pairs = [(i, j) for i in range(pre.size) for j in range(post.size) if i != j]
            connector = sim.FromListConnector(pairs)
        kwargs = {"space": space} if space is not None else {}
        return sim.Projection(pre, post, connector, synapse_type=synapse_type, source=source,
                              receptor_type=receptor_type, label=label, **kwargs)

    out.Projection = projection
    return out
