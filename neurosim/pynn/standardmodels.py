"""The standard models neurosim runs, with PyNN's names translated to the core's (one table:
:mod:`neurosim.pynn_conventions`); every other standard model raises PyNN's ``NoModelAvailableError``.

Cells: ``IF_curr_exp`` (the core's neuron), ``SpikeSourceArray``, ``SpikeSourcePoisson``.
Synapses: ``StaticSynapse`` and ``STDPMechanism`` with ``SpikePairRule`` and additive or
multiplicative weight dependence (the core's pair STDP). Current sources (``DCSource``,
``StepCurrentSource``) are in :mod:`neurosim.pynn.electrodes`.
"""

from __future__ import annotations

from pyNN import errors
from pyNN.standardmodels import build_translations, cells, check_weights, electrodes, synapses

from neurosim.pynn.checks import check_parameters
from neurosim.pynn.simulator import state
from neurosim.pynn_conventions import LIF_TRANSLATION


class _Checked:
    """Values given by name are checked before PyNN's ParameterSpace takes them (:mod:`.checks`)."""

    def __init__(self, *args, **parameters) -> None:
        check_parameters(self, parameters)
        super().__init__(*args, **parameters)


class IF_curr_exp(_Checked, cells.IF_curr_exp):  # noqa: N801 - PyNN's name
    __doc__ = cells.IF_curr_exp.__doc__
    translations = build_translations(*LIF_TRANSLATION)  # (PyNN name, core name, factor)


class SpikeSourceArray(_Checked, cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    translations = build_translations(("spike_times", "spike_times"))


class SpikeSourcePoisson(_Checked, cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    translations = build_translations(("rate", "rate"), ("start", "start"), ("duration", "duration"))


class _SynapseType:
    def _get_minimum_delay(self) -> float:
        return state.dt if state.min_delay == "auto" else state.min_delay

    @property
    def parameter_checks(self) -> dict:
        """PyNN's sign check of weights in the standard dialect; sPyNNaker takes magnitudes on either receptor."""
        return {"weight": check_weights} if state.dialect.inhibitory_sign < 0 else {}


class StaticSynapse(_Checked, _SynapseType, synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = build_translations(("weight", "weight"), ("delay", "delay"))
    # sPyNNaker's static synapse exposes its weight and delay, as PyNN's STDPMechanism does (sPyBlocks reads them)
    weight = property(lambda self: self.parameter_space["weight"].base_value, doc="The weight as given.")
    delay = property(lambda self: self.parameter_space["delay"].base_value, doc="The delay (ms) as given.")


class STDPMechanism(_Checked, _SynapseType, synapses.STDPMechanism):
    __doc__ = synapses.STDPMechanism.__doc__
    base_translations = build_translations(("weight", "weight"), ("delay", "delay"),
                                           ("dendritic_delay_fraction", "dendritic_delay_fraction"))


class SpikePairRule(_Checked, synapses.SpikePairRule):
    __doc__ = synapses.SpikePairRule.__doc__
    translations = build_translations(("tau_plus", "tau_plus"), ("tau_minus", "tau_minus"), ("A_plus", "A_plus"),
                                      ("A_minus", "A_minus"))


class AdditiveWeightDependence(_Checked, synapses.AdditiveWeightDependence):
    __doc__ = synapses.AdditiveWeightDependence.__doc__
    translations = build_translations(("w_max", "w_max"), ("w_min", "w_min"))
    neurosim_rule = "additive"


class MultiplicativeWeightDependence(_Checked, synapses.MultiplicativeWeightDependence):
    __doc__ = synapses.MultiplicativeWeightDependence.__doc__
    translations = build_translations(("w_max", "w_max"), ("w_min", "w_min"))
    neurosim_rule = "multiplicative"


def _unavailable(base: type) -> type:
    def refuse(self, *args, **kwargs) -> None:
        raise errors.NoModelAvailableError(
            f"{base.__name__} is not available in neurosim.pynn: the core runs IF_curr_exp, SpikeSourceArray, "
            "SpikeSourcePoisson, StaticSynapse, STDPMechanism (SpikePairRule; additive or multiplicative weight "
            "dependence), DCSource and StepCurrentSource")

    return type(base.__name__, (base,), {"__init__": refuse, "__doc__": base.__doc__})


UNAVAILABLE = tuple(_unavailable(getattr(module, n)) for module, names in (
    (cells, ("IF_curr_alpha", "IF_curr_delta", "IF_cond_alpha", "IF_cond_exp", "IF_cond_exp_gsfa_grr",
             "IF_facets_hardware1", "HH_cond_exp", "EIF_cond_alpha_isfa_ista", "EIF_cond_exp_isfa_ista",
             "Izhikevich", "GIF_cond_exp", "SpikeSourceGamma", "SpikeSourceInhGamma",
             "SpikeSourcePoissonRefractory", "LIF", "AdExp", "PointNeuron", "MultiCompartmentNeuron")),
    (synapses, ("TsodyksMarkramSynapse", "AdditivePotentiationMultiplicativeDepression", "GutigWeightDependence",
                "Vogels2011Rule", "SimpleStochasticSynapse", "StochasticTsodyksMarkramSynapse",
                "MultiQuantalSynapse", "ElectricalSynapse")),
    (electrodes, ("ACSource", "NoisyCurrentSource")),
) for n in names if hasattr(module, n))
