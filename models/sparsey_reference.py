"""Sparsey's Code Selection Algorithm for one input in plain numpy: the readable reference the numba and torch
engines (:mod:`.sparsey_numba`, :mod:`.sparsey_torch`) are tested against; the equations are in
:mod:`.sparsey`'s docstring."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from neurosim.models.sparsey import CSAParams




def csa_reference(weights: dict[str, np.ndarray], active: dict[str, np.ndarray], q: int, k: int,
                  params: CSAParams) -> tuple[np.ndarray, float, np.ndarray]:
    """V (q k), G and rho (q k) for one input; ``weights[s]`` is (n_s, q k), ``active[s]`` index arrays.

    Sources missing from ``active`` (or with no active unit) are absent from the product.
    """
    lam = {"u": params.lambda_u, "h": params.lambda_h, "d": params.lambda_d}
    v = np.ones(q * k)
    for s, idx in active.items():
        if len(idx):
            v *= (weights[s][idx].sum(axis=0) / len(idx)) ** lam[s]
    vq = v.reshape(q, k)
    g = float(vq.max(axis=1).mean())
    eta = 1.0 + max(0.0, (g - params.g_low) / (1.0 - params.g_low)) ** params.gamma * params.chi * k
    mu = (eta - 1.0) / (1.0 + np.exp(-(vq - params.sigmoid_center) / params.sigmoid_width)) + 1.0
    rho = mu / mu.sum(axis=1, keepdims=True)
    return v, g, rho.ravel()


def step_reference(weights: dict[str, np.ndarray], active: dict[str, np.ndarray], q: int, k: int,
                   params: CSAParams, uniforms: np.ndarray, *, recognize: bool = False,
                   learn: bool = True) -> tuple[np.ndarray, float]:
    """One CSA step and its learning in plain numpy: (code (q,) cell indices, G); learns in ``weights``."""
    v, g, rho = csa_reference(weights, active, q, k, params)
    if recognize:
        code = v.reshape(q, k).argmax(axis=1)
    else:
        # the first cell whose cumulative probability exceeds the CM's uniform (the last on round-off)
        cum = np.cumsum(rho.reshape(q, k), axis=1)
        code = np.minimum((cum <= np.asarray(uniforms)[:, None]).sum(axis=1), k - 1)
    code = code + np.arange(q) * k
    if learn:
        for s, idx in active.items():
            weights[s][np.ix_(idx, code)] = 1
    return code, g
