"""The standard models neurosim runs, with PyNN's names translated to the core's (one table:
:mod:`neurosim.pynn_conventions`); every other standard model raises PyNN's ``NoModelAvailableError``.

Cells: ``IF_curr_exp`` (the core's neuron), ``SpikeSourceArray``, ``SpikeSourcePoisson``.
Synapses: ``StaticSynapse`` and ``STDPMechanism`` with ``SpikePairRule`` and additive or
multiplicative weight dependence (the core's pair STDP). Current sources: ``DCSource`` from t = 0
on for the whole run, which is a constant offset current (the core has no time-varying input
current).
"""

from __future__ import annotations

from pyNN import errors
from pyNN.standardmodels import build_translations, cells, electrodes, synapses

from neurosim.pynn.simulator import state
from neurosim.pynn_conventions import LIF_TRANSLATION


class IF_curr_exp(cells.IF_curr_exp):  # noqa: N801 - PyNN's name
    __doc__ = cells.IF_curr_exp.__doc__
    translations = build_translations(*((py, ns) for py, ns, _ in LIF_TRANSLATION))


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    translations = build_translations(("spike_times", "spike_times"))


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    translations = build_translations(("rate", "rate"), ("start", "start"), ("duration", "duration"))


class _MinimumDelay:
    def _get_minimum_delay(self) -> float:
        return state.dt if state.min_delay == "auto" else state.min_delay


class StaticSynapse(_MinimumDelay, synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = build_translations(("weight", "weight"), ("delay", "delay"))


class STDPMechanism(_MinimumDelay, synapses.STDPMechanism):
    __doc__ = synapses.STDPMechanism.__doc__
    base_translations = build_translations(("weight", "weight"), ("delay", "delay"),
                                           ("dendritic_delay_fraction", "dendritic_delay_fraction"))


class SpikePairRule(synapses.SpikePairRule):
    __doc__ = synapses.SpikePairRule.__doc__
    translations = build_translations(("tau_plus", "tau_plus"), ("tau_minus", "tau_minus"), ("A_plus", "A_plus"),
                                      ("A_minus", "A_minus"))


class AdditiveWeightDependence(synapses.AdditiveWeightDependence):
    __doc__ = synapses.AdditiveWeightDependence.__doc__
    translations = build_translations(("w_max", "w_max"), ("w_min", "w_min"))
    neurosim_rule = "additive"


class MultiplicativeWeightDependence(synapses.MultiplicativeWeightDependence):
    __doc__ = synapses.MultiplicativeWeightDependence.__doc__
    translations = build_translations(("w_max", "w_max"), ("w_min", "w_min"))
    neurosim_rule = "multiplicative"


class DCSource(electrodes.DCSource):
    """A constant current from t = 0 to the end of the run, added to the cells' ``i_offset`` (the core
    has no time-varying input current: another ``start`` or a finite ``stop`` is refused when the
    network is built)."""

    translations = build_translations(("amplitude", "amplitude"), ("start", "start"), ("stop", "stop"))

    def __init__(self, **parameters) -> None:
        object.__setattr__(self, "_native", {})
        object.__setattr__(self, "targets", [])
        super().__init__(**parameters)
        self.set_parameters(**{**self.default_parameters, **parameters})
        state.current_sources.append(self)

    def set_native_parameters(self, parameters) -> None:
        state.assert_not_running("changing a current source")
        parameters.evaluate(simplify=True)
        self._native.update(parameters.as_dict())

    def get_native_parameters(self):
        from pyNN.parameters import ParameterSpace

        return ParameterSpace(dict(self._native), self.get_schema(), (1,))

    def inject_into(self, cells) -> None:
        state.assert_not_running("injecting a current")
        cells = list(cells)
        for cell in cells:
            if not cell.celltype.injectable:
                raise TypeError(f"can't inject current into a {cell.celltype.__class__.__name__}")
        self.targets.extend(cells)


def _unavailable(base: type) -> type:
    def refuse(self, *args, **kwargs) -> None:
        raise errors.NoModelAvailableError(
            f"{base.__name__} is not available in neurosim.pynn: the core runs IF_curr_exp, SpikeSourceArray, "
            "SpikeSourcePoisson, StaticSynapse, STDPMechanism (SpikePairRule; additive or multiplicative weight "
            "dependence) and DCSource")

    return type(base.__name__, (base,), {"__init__": refuse, "__doc__": base.__doc__})


UNAVAILABLE = tuple(_unavailable(getattr(module, n)) for module, names in (
    (cells, ("IF_curr_alpha", "IF_curr_delta", "IF_cond_alpha", "IF_cond_exp", "IF_cond_exp_gsfa_grr",
             "IF_facets_hardware1", "HH_cond_exp", "EIF_cond_alpha_isfa_ista", "EIF_cond_exp_isfa_ista",
             "Izhikevich", "GIF_cond_exp", "SpikeSourceGamma", "SpikeSourceInhGamma",
             "SpikeSourcePoissonRefractory")),
    (synapses, ("TsodyksMarkramSynapse", "AdditivePotentiationMultiplicativeDepression", "GutigWeightDependence",
                "Vogels2011Rule", "SimpleStochasticSynapse", "StochasticTsodyksMarkramSynapse",
                "MultiQuantalSynapse", "ElectricalSynapse")),
    (electrodes, ("StepCurrentSource", "ACSource", "NoisyCurrentSource")),
) for n in names if hasattr(module, n))
