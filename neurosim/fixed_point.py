r"""SpiNNaker's fixed-point arithmetic (sPyNNaker 7.x), as integer functions on raw bits.

The board computes in s16.15 "accum" (1 LSB = :math:`2^{-15}`) and u0.32 "unsigned long fract"
(1 LSB = :math:`2^{-32}`); these functions take and return the raw integers. Facts, read from
sPyNNaker 7.4.1 (its Python package and the compiled ``IF_curr_exp*.aplx`` it ships) and from
spinn_common 7.4.1's ``stdfix-exp.c``; the equations and formats are in docs/core.md:

- a float parameter becomes s16.15 as ``round(Decimal(str(v)) * 2**15)``, half to even (:func:`s1615`);
- ``accum * accum`` is the 64-bit product shifted right by 15: a floor, no saturation (:func:`mul`);
- ``decay_s1615(x, d)``: ``(x * d) >> 32`` with ``d`` an unsigned u0.32 (:func:`decay`);
- ``kdivk(a, b)``: ``(a << 15) // b``, truncating (:func:`kdivk`);
- ``expk`` and ``expulr`` are integer algorithms: ``exp(z)`` for the integer part from a table of
  :math:`e^z 2^{32}`, corrected by a table of :math:`1 - e^{-i/16}` and a quadratic for the rest
  (:func:`expk`, :func:`expulr`). The tables are computed here to 50 digits (they equal spinn_common's,
  tested); the quadratic's three coefficients are spinn_common's.

Written by hand: no library computes the board's integer arithmetic.

Bad input is refused in the project's form (``neurosim._checks``): text, bools, None, NaN and floats where raw
bits are integers, and values outside their format (s16.15 bits are an int32: floats in [-65536, 65536)).
``mul`` and ``decay`` run in the tick on int64 arrays: of an array only the dtype is checked.
"""

from __future__ import annotations

import math
from decimal import Decimal, getcontext

import numpy as np

from neurosim import _checks as ck

ONE = 1 << 15          # 1.0 in s16.15
U32 = 0xFFFFFFFF
_M64 = (1 << 64) - 1
S_MIN, S_MAX = -(1 << 31), (1 << 31) - 1  # raw s16.15 bits: an int32
_S1615 = f"in [-65536, {S_MAX / ONE:.5f}] (s16.15: bits in [{S_MIN}, {S_MAX}])"
_BITS = f"raw s16.15 bits: an integer in [{S_MIN}, {S_MAX}]"
_U032 = f"raw u0.32 bits: an integer in [0, {U32}]"


def _integer(field: str, value: object, lo: int | None, hi: int | None, allowed: str) -> int:
    """A Python or numpy integer (not a bool) in [lo, hi] (None: unbounded), checked before any cast."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        ck.fail(field, value, allowed)
    v = int(value)
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        ck.fail(field, value, allowed)
    return v


def _raw(field: str, value: object, lo: int, hi: int, allowed: str) -> np.ndarray:
    """Raw bits as int64: an integer array (the tick's: its dtype only is checked, no pass over the values),
    a list or tuple of integers, or one integer (both range-checked)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iu":
            ck.fail(field, value.ravel()[0].item() if value.size else value.dtype.name,
                    f"{allowed} (an array of them of an integer dtype, not {value.dtype.name})")
        return np.asarray(value, np.int64)
    if isinstance(value, (list, tuple)):
        a = np.asarray(value)
        if a.dtype.kind not in "iu":
            ck.fail(field, value, f"{allowed} (or a sequence of them)")
        for v in (a.min(), a.max()) if a.size else ():
            _integer(field, v, lo, hi, allowed)
        return a.astype(np.int64)
    return np.asarray(_integer(field, value, lo, hi, allowed), np.int64)


def _bits(field: str, value: float) -> int:
    """``value`` (checked finite) in s16.15 bits; out of the format's range is refused."""
    bits = int(round(Decimal(repr(float(value))) * ONE))
    if not S_MIN <= bits <= S_MAX:
        ck.fail(field, value, _S1615)
    return bits


def s1615(value: float, field: str = "value") -> int:
    """A float as sPyNNaker writes it in s16.15: its shortest decimal form times 2^15, half to even (``field``
    names it in the error when it does not fit)."""
    return _bits(field, ck.finite(field, value))


def s1615_array(values: np.ndarray, field: str = "values") -> np.ndarray:
    a = ck.finite_array(field, values)
    return np.array([_bits(field, v) for v in a.ravel()], dtype=np.int64).reshape(a.shape)


def mul(a, b):
    """accum x accum as compiled for the board (ARM smull): the 64-bit product >> 15, a floor."""
    return (_raw("a", a, S_MIN, S_MAX, _BITS) * _raw("b", b, S_MIN, S_MAX, _BITS)) >> 15


def decay(x, d):
    """decay_s1615: s16.15 ``x`` times u0.32 ``d``, the high word of the 64-bit product (a floor)."""
    return (_raw("x", x, S_MIN, S_MAX, _BITS) * _raw("d", d, 0, U32, _U032)) >> 32


def kdivk(a: int, b: int) -> int:
    """a / b in s16.15 for positive arguments: (a << 15) // b, truncating."""
    a = _integer("a", a, 0, S_MAX, f"raw s16.15 bits: an integer in [0, {S_MAX}]")
    b = _integer("b", b, 1, S_MAX, f"raw s16.15 bits: an integer in [1, {S_MAX}] (a divisor)")
    return (a << 15) // b


def _tables() -> tuple[list[int], list[int]]:
    getcontext().prec = 50
    hi = [int((Decimal(z).exp() * 2**32).to_integral_value()) for z in range(-13, 13)]
    mid = [int(((1 - (Decimal(-i) / 16).exp()) * 2**32).to_integral_value()) for i in range(16)]
    return hi, mid


EXP_HI, EXPM1_MID = _tables()          # e^z 2^32 for z = -13 .. 12; (1 - e^(-i/16)) 2^32 for i = 0 .. 15
_SERIES = (5294, 4293434720, 2081624032)  # spinn_common's quadratic for 1 - e^(-y), y < 1/16, in u0.32


def _cm(c: int, x: int) -> int:
    return ((c * x) >> 32) & U32


def _series(y: int) -> int:
    t = (_SERIES[1] - _cm(_SERIES[2], y)) & U32
    return (_cm(t, y) + _SERIES[0]) & U32


def _scale(x: int, y: int) -> int:
    """x * y / 2^32 for a u32.32 ``x``, the low half rounded up from 0x7FFFFFFF (spinn_common's threshold)."""
    low = (x & U32) * y
    return (((low >> 32) + (1 if (low & U32) >= 0x7FFFFFFF else 0)) + (x >> 32) * y) & _M64


def _exp64(n: int) -> int:
    """e^(n / 2^15) as u32.32."""
    z, f = n >> 15, n - ((n >> 15) << 15)
    if f <= 0:
        return EXP_HI[13 + z]
    z, f = z + 1, ONE - f
    t = EXP_HI[13 + z]
    t = (t - _scale(t, EXPM1_MID[f >> 11])) & _M64
    return (t - _scale(t, _series(((f & 0x7FF) << 17) & U32))) & _M64


def expk(n: int) -> int:
    """expk: e^x for s16.15 bits ``n`` (any integer: it saturates), in s16.15 bits (truncated)."""
    n = _integer("n", n, None, None, "raw s16.15 bits: an integer")
    if n > 363408:
        return 0x7FFFFFFF
    return 0 if n < -340695 else (_exp64(n) >> 17) & U32


def expulr(n: int) -> int:
    """expulr: e^x for s16.15 bits ``n`` <= 0 (a u0.32 holds e^x <= 1), in u0.32 bits."""
    n = _integer("n", n, None, 0, "raw s16.15 bits: an integer <= 0 (e^x in u0.32 is below 1)")
    return 0 if n < -340695 else _exp64(n) & U32


# -- the constants a core derives from its s16.15 parameters ----------------------------------------------------


def lif_constants(tau_m: int, cm: int, tau_refrac: int, dt: int) -> tuple[int, int, int]:
    """(R = tau_m / cm, exp_TC = e^(-dt / tau_m), refractory ticks = ceil(tau_refrac / dt)) from s16.15 bits."""
    tau_m, cm, dt = (_integer(f, v, 1, S_MAX, f"raw s16.15 bits: an integer in [1, {S_MAX}] (> 0)")
                     for f, v in (("tau_m", tau_m), ("cm", cm), ("dt", dt)))
    tau_refrac = _integer("tau_refrac", tau_refrac, 0, S_MAX, f"raw s16.15 bits: an integer in [0, {S_MAX}]")
    r = kdivk(tau_m, cm)
    exp_tc = expk(-kdivk(dt, tau_m))
    ticks = kdivk(tau_refrac, dt)
    return r, exp_tc, (ticks >> 15) + (1 if ticks & 0x7FFF else 0)


def synapse_constants(tau: int, dt: int) -> tuple[int, int]:
    """(decay = e^(-dt / tau), init ~ (tau / dt)(1 - decay)), both u0.32, from s16.15 bits."""
    tau, dt = (_integer(f, v, 1, S_MAX, f"raw s16.15 bits: an integer in [1, {S_MAX}] (> 0)")
               for f, v in (("tau", tau), ("dt", dt)))
    d = expulr(-kdivk(dt, tau))
    init = ((kdivk(tau, dt) * (U32 - d)) >> 15) & U32
    return d, init


def ring_buffer_shift(max_weight: float) -> int:
    """The left shift sPyNNaker gives a synapse type whose summed input can reach ``max_weight`` nA: the
    smallest p with 2^p > max_weight (0 for none)."""
    max_weight = ck.finite("max_weight", max_weight)
    p = 0 if max_weight <= 0 else int(math.ceil(max(0.0, math.log2(max_weight))))
    return p + 1 if 2**p <= max_weight else p


def stdp_lut(tau_ms: float, dt_ms: float) -> np.ndarray:
    """A trace's decay table as the board holds it: floor(e^(-i dt / tau) 2048) for i < an even size
    ~ ln(2048) tau / dt; past it the trace is 0."""
    tau_ms, dt_ms = ck.positive("tau_ms", tau_ms, "ms"), ck.positive("dt_ms", dt_ms, "ms")
    lam = dt_ms / tau_ms
    if lam == 0.0:  # tau / dt past float's range: no table holds it
        ck.fail("tau_ms", tau_ms, f"a decay table that fits in memory (tau_ms / dt_ms = {tau_ms / dt_ms:g})")
    ck.allocatable("tau_ms", tau_ms, 8.0 * math.log(2048) / lam)
    half, rem = divmod(math.log(2048) / lam, 2)
    size = int(2 * (half + (1 if rem else 0)))
    return np.floor(np.exp(-np.arange(size) * lam) * 2048).astype(np.int64)
