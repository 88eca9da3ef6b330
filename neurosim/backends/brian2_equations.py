r"""neurosim's tick as Brian2 abstract code: the model strings of the ``brian2`` backend.

:func:`neurosim.backends.brian2_build.build` puts them into Brian2 objects.

* **Neurons** (:data:`_NEURON_EQS`, :data:`_MEMBRANE`, :data:`_DECAY`): one ``NeuronGroup``
  holds every neuron (global ids ``0 .. n_neurons-1``) with per-neuron parameters, so
  populations may differ.
  There are no differential equations: neurosim's tick is written out as abstract
  code, in the slots of Brian2's default schedule::

      groups      (run_regularly) Ie += init_e be; Ii += init_i bi; be = bi = 0
                                  alpha = (Ie - Ii + i_offset) R + v_rest
                                  v = alpha - e_m (alpha - v), unless c > 0: c -= 1
      thresholds  v >= v_thresh                      (+ the SpikeGeneratorGroup)
      synapses    spike delivery and STDP            (be_post += w, ...)
      resets      v = v_reset; c = refrac_steps
      end         (run_regularly) Ie *= e_e; Ii *= e_i; then the StateMonitor

  ``be``/``bi`` are per-neuron input accumulators (neurosim's ring-buffer slot of
  the current tick). Brian2 abstract code has no ``if``: the refractory choice is
  ``v = vn (1 - f) + v f`` with ``f = int(c > 0)``, which is exact in IEEE
  arithmetic (``x * 1 + 0 = x``).
* **STDP** (:data:`_STDP_MODEL`, :func:`_stdp_code`, :func:`_set_stdp_parameters`; objects
  holding at least one plastic synapse; static synapses in them get zero steps): per-synapse
  pre trace ``apre``/``tpre`` (value right after the last pre spike and its tick) and post
  trace ``apost``/``tpost`` (value right after the last post spike *as it reaches the
  synapse* and that tick). Three pathways, mimicking neurosim's dendritic delay:

  - ``post`` (on_post, delay ``d dt``, runs first): potentiation with the pre
    trace, then the post trace jumps;
  - ``pre`` (on_pre, delay 0): depression with the post trace, pre trace jumps,
    and the updated weight is stored in a per-synapse slot ``wq[t % d]``;
  - ``deliver`` (on_pre, delay ``(d - 1) dt``): ``be_post += wq[(t + 1) % d]``,
    i.e. the weight as it was right after the pre spike's own depression
    (for ``d = 1`` the ``pre`` pathway delivers ``w`` itself).

  Decays are ``exp(-k dt / tau) * int(k <= ceil(40 tau / dt))`` with ``k`` whole
  steps (``t_in_timesteps``), the same numbers as neurosim's tables; additive and
  multiplicative rules and clipping as in :mod:`neurosim.plasticity`.
"""

from __future__ import annotations

import numpy as np

from neurosim.compiled import CompiledNetwork

_NEVER = -(1 << 30)   # tick of a spike that never happened (int32 Brian2 variables)
_BIG = 1e300          # "no bound" for static synapses inside plastic Synapses objects

_NEURON_EQS = """
v : 1
Ie : 1
Ii : 1
be : 1
bi : 1
c : integer
v_rest : 1 (constant)
v_reset : 1 (constant)
v_thresh : 1 (constant)
r_mohm : 1 (constant)
i_offset : 1 (constant)
decay_m : 1 (constant)
decay_e : 1 (constant)
decay_i : 1 (constant)
init_e : 1 (constant)
init_i : 1 (constant)
refrac_steps : integer (constant)
"""

_MEMBRANE = """
Ie = Ie + init_e*be
Ii = Ii + init_i*bi
be = 0
bi = 0
alpha = (Ie - Ii + i_offset)*r_mohm + v_rest
vn = alpha - decay_m*(alpha - v)
nf = int(c > 0)
v = vn*(1 - nf) + v*nf
c = c - nf
"""

_DECAY = """
Ie = Ie*decay_e
Ii = Ii*decay_i
"""

_STDP_MODEL = """
w : 1
apre : 1
tpre : integer
apost : 1
tpost : integer
a_plus : 1 (constant)
a_minus : 1 (constant)
w_min : 1 (constant)
w_max : 1 (constant)
mult : 1 (constant)
dt_tau_plus : 1 (constant)
dt_tau_minus : 1 (constant)
k_plus : integer (constant)
k_minus : integer (constant)
learning : 1 (shared)
"""

# pre trace at this tick (spikes of earlier ticks), post trace as it reaches the synapse
_X = "x = apre*(exp(-(t_in_timesteps - tpre)*dt_tau_plus)*int(t_in_timesteps - tpre <= k_plus))"
_Y = "y = apost*(exp(-(t_in_timesteps - tpost)*dt_tau_minus)*int(t_in_timesteps - tpost <= k_minus))"
_DW_PLUS = {"additive": "dw = a_plus*x", "multiplicative": "dw = a_plus*(w_max - w)*x",
            "mixed": "dw = mult*(a_plus*(w_max - w)*x) + (1 - mult)*(a_plus*x)"}
_DW_MINUS = {"additive": "dw = a_minus*y", "multiplicative": "dw = a_minus*(w - w_min)*y",
             "mixed": "dw = mult*(a_minus*(w - w_min)*y) + (1 - mult)*(a_minus*y)"}


def _stdp_code(kind: str, delay: int, target: str) -> dict[str, str]:
    pre = [_Y, _DW_MINUS[kind], "w = clip(w - learning*dw, w_min, inf)",
           "apre = apre*(exp(-(t_in_timesteps - tpre)*dt_tau_plus)*int(t_in_timesteps - tpre <= k_plus)) + 1",
           "tpre = t_in_timesteps"]
    post = [_X, _DW_PLUS[kind], "w = clip(w + learning*dw, -inf, w_max)",
            "apost = apost*(exp(-(t_in_timesteps - tpost)*dt_tau_minus)*int(t_in_timesteps - tpost <= k_minus)) + 1",
            "tpost = t_in_timesteps"]
    code = {"post": "\n".join(post)}
    if delay == 1:
        pre.append(f"{target}_post += w")
    else:
        # the weight right after this pre spike's depression waits in slot t % d; exact selection
        pre.append(f"slot = t_in_timesteps % {delay}")
        pre += [f"wq{k} = w*int(slot == {k}) + wq{k}*int(slot != {k})" for k in range(delay)]
        picked = " + ".join(f"wq{k}*int(slot == {k})" for k in range(delay))
        code["deliver"] = f"slot = (t_in_timesteps + 1) % {delay}\n{target}_post += {picked}"
    code["pre"] = "\n".join(pre)
    return code


def _set_stdp_parameters(s, net: CompiledNetwork, ids: np.ndarray) -> None:
    rule = net.syn_rule[ids]
    plastic = rule >= 0
    r = np.where(plastic, rule, 0)

    def per_rule(values: np.ndarray, static: float) -> np.ndarray:
        return np.where(plastic, values[r], static)

    dt = net.dt_ms
    tau_p = np.array([x.tau_plus_ms for x in net.rules])
    tau_m = np.array([x.tau_minus_ms for x in net.rules])
    k_p = np.array([int(np.ceil(40.0 * x.tau_plus_ms / dt)) for x in net.rules], np.int64)
    k_m = np.array([int(np.ceil(40.0 * x.tau_minus_ms / dt)) for x in net.rules], np.int64)
    s.a_plus = per_rule(net.rule_a_plus, 0.0)
    s.a_minus = per_rule(net.rule_a_minus, 0.0)
    s.w_min = per_rule(net.rule_w_min, -_BIG)
    s.w_max = per_rule(net.rule_w_max, _BIG)
    s.mult = per_rule(net.rule_mult.astype(np.float64), 0.0)
    s.dt_tau_plus = per_rule(dt / tau_p, 1.0)   # dt / tau as in neurosim.plasticity.decay_table
    s.dt_tau_minus = per_rule(dt / tau_m, 1.0)
    s.k_plus = per_rule(k_p, 0).astype(np.int64)
    s.k_minus = per_rule(k_m, 0).astype(np.int64)
    s.tpre = _NEVER
    s.tpost = _NEVER
    s.learning = 1.0
