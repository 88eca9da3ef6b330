"""torch devices and dtypes by name: the one rule every torch engine and torch model follows."""

from __future__ import annotations

import re

import torch

from neurosim import backends

DTYPES = {"float64": torch.float64, "float32": torch.float32}
_DEVICE = re.compile(r"^(cpu|cuda(:\d+)?)$")


def torch_device(device: str | None) -> torch.device:
    """``None``: CUDA when torch sees a GPU, else the CPU; otherwise 'cpu', 'cuda' or 'cuda:<index>'."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    text = str(device)
    if not _DEVICE.match(text):
        raise ValueError(f"device = {device!r} is not allowed: 'cpu', 'cuda' or 'cuda:<index>' (or None)")
    if text.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device = {device!r} is not allowed: CUDA is not available here; use 'cpu'")
        index = int(text.split(":")[1]) if ":" in text else 0
        if index >= torch.cuda.device_count():
            raise ValueError(f"device = {device!r} is not allowed: "
                             f"cuda:0 .. cuda:{torch.cuda.device_count() - 1}")
    return torch.device(text)


def torch_dtype(dtype: str) -> torch.dtype:
    if dtype not in DTYPES:
        raise ValueError(f"dtype = {dtype!r} is not allowed: one of {list(DTYPES)}")
    return DTYPES[dtype]


def placement(device: str | None, dtype: str | None) -> tuple[str, str]:
    """``(device, dtype)`` of a torch module, checked by :func:`neurosim.backends.resolve` (a bad value is a
    ``ValueError`` naming the field). ``device`` None is the CPU, as for any torch module: its inputs are the
    caller's tensors (the experiments pass the device they chose, CUDA when torch sees a GPU); ``dtype``
    None is torch's default dtype (float32 unless changed)."""
    _, device, dtype = backends.resolve("torch", device or "cpu",
                                        dtype or str(torch.get_default_dtype()).removeprefix("torch."))
    return device, dtype
