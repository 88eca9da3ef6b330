"""Sparsey's torch engine (CPU or CUDA, float64 or float32), with the interface of :mod:`.sparsey_numba`.

Inputs that neither learn nor follow a sequence (recognition, recall) are independent: their
supports are one matrix product per source for the whole batch. Otherwise the inputs are
coded in order, one at a time (each may learn before the next), with every array on the
device. Both paths compute V, G and rho with the expressions of the numba kernel in its
order: integer supports times ``1 / |x|``, G summed over the CMs in order, each CM's
probabilities summed in order (``cumsum``, sequential on the CPU), the winner the first
cell whose cumulative probability exceeds the CM's uniform, or the first max-V cell.
"""

from __future__ import annotations

import numpy as np
import torch

from neurosim.backends.devices import torch_device, torch_dtype

_CHUNK = 1 << 24  # entries of the dense (items x inputs) block of one matrix product


class MacArrays:
    """A MAC's weights ``u`` (n_inputs, n), ``h`` (n_h, n), ``d`` (n_d, n) as uint8 0/1 tensors on the device."""

    def __init__(self, n_inputs: int, n_cells: int, n_h: int, n_d: int, device: str, dtype: str) -> None:
        self.dev = torch_device(device)
        self.fdt = torch_dtype(dtype)
        self.u, self.h, self.d = (torch.zeros((n, n_cells), dtype=torch.uint8, device=self.dev)
                                  for n in (n_inputs, n_h, n_d))

    def array(self, name: str) -> np.ndarray:
        """The weights ``name`` as numpy: on the CPU the tensor's own memory (writable), from a GPU a copy."""
        return getattr(self, name).cpu().numpy()

    def clear(self) -> None:
        for w in (self.u, self.h, self.d):
            w.zero_()

    def load(self, u: np.ndarray, h: np.ndarray, d: np.ndarray) -> None:
        for w, a in ((self.u, u), (self.h, h), (self.d, d)):
            w.copy_(torch.as_tensor(np.asarray(a, dtype=np.uint8)))

    def _long(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.asarray(a, dtype=np.int64), device=self.dev)

    # -- the CSA on a batch of supports ---------------------------------------------------------------
    def _csa(self, v: torch.Tensor, csa: tuple, uniforms: torch.Tensor, recognize: bool
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """Codes (B, q) cell indices and G (B,) from V (B, q, k)."""
        _, q, k, g_low, gamma, chi, center, width = csa
        g = torch.cumsum(v.max(2).values, 1)[:, -1] / q  # summed over the CMs in order (the kernel's)
        x = (g - g_low) / (1.0 - g_low)
        eta = 1.0 + torch.where(x > 0.0, x ** gamma * chi * k, torch.zeros_like(x))
        if recognize:
            win = v.argmax(2)  # the first max-V cell
        else:
            mu = (eta - 1.0)[:, None, None] / (1.0 + torch.exp(-(v - center) / width)) + 1.0
            rho = mu / torch.cumsum(mu, 2)[:, :, -1:]
            below = torch.cumsum(rho, 2) <= uniforms[:, :, None]
            win = below.sum(2).clamp(max=k - 1)
        return win + torch.arange(q, device=self.dev) * k, g

    def _support(self, w: torch.Tensor, idx: torch.Tensor, lam: float) -> torch.Tensor:
        s = w.index_select(0, idx).sum(0).to(self.fdt) * (1.0 / idx.numel())
        return s if lam == 1.0 else s ** lam

    # -- the engine interface --------------------------------------------------------------------------
    def run(self, u_ptr: np.ndarray, u_idx: np.ndarray, use_h: np.ndarray, prev: np.ndarray, d_ptr: np.ndarray,
            d_idx: np.ndarray, csa: tuple, min_active: int, require_u: bool, uniforms: np.ndarray, recognize: bool,
            learn: bool, freeze_at: int, n_set: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`neurosim.models.sparsey_numba.MacArrays.run`."""
        if not learn and not use_h.any():
            return self._all_at_once(u_ptr, u_idx, d_ptr, d_idx, csa, min_active, require_u, uniforms, recognize)
        return self._in_order(u_ptr, u_idx, use_h, prev, d_ptr, d_idx, csa, min_active, require_u, uniforms,
                              recognize, learn, freeze_at, n_set)

    def _all_at_once(self, u_ptr, u_idx, d_ptr, d_idx, csa, min_active, require_u, uniforms, recognize):
        q = csa[1]
        n = u_ptr.size - 1
        codes, gs = np.zeros((n, q), dtype=np.int64), np.zeros(n)
        wide = max(self.u.shape[0], self.d.shape[0], 1)
        step = max(1, _CHUNK // wide)  # rows per chunk: the dense input block stays below _CHUNK entries
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            u_part = (u_ptr[lo:hi + 1] - u_ptr[lo], u_idx[u_ptr[lo]:u_ptr[hi]])
            d_part = (d_ptr[lo:hi + 1] - d_ptr[lo], d_idx[d_ptr[lo]:d_ptr[hi]])
            codes[lo:hi], gs[lo:hi] = self._chunk(u_part, d_part, csa, min_active, require_u, uniforms[lo:hi],
                                                  recognize)
        return codes, gs

    def _chunk(self, u_part, d_part, csa, min_active, require_u, uniforms, recognize):
        lam, q, k = csa[:3]
        n = u_part[0].size - 1
        v = torch.ones((n, q * k), dtype=self.fdt, device=self.dev)
        n_u, n_d = np.diff(u_part[0]), np.diff(d_part[0])
        use_u = n_u >= min_active
        use_d = (n_d > 0) & (use_u | (not require_u))
        for w, idx, size, use, lam_s in ((self.u, u_part[1], n_u, use_u, lam[0]),
                                        (self.d, d_part[1], n_d, use_d, lam[2])):
            if not use.any():
                continue
            x = torch.zeros((n, w.shape[0]), dtype=self.fdt, device=self.dev)
            x[self._long(np.repeat(np.arange(n), size)), self._long(idx)] = 1.0
            inv = torch.as_tensor(1.0 / np.maximum(size, 1), dtype=self.fdt, device=self.dev)
            s = (x @ w.to(self.fdt)) * inv[:, None]
            s = s if lam_s == 1.0 else s ** lam_s
            v = torch.where(torch.as_tensor(use, device=self.dev)[:, None], v * s, v)
        codes, g = self._csa(v.view(n, q, k), csa, torch.as_tensor(uniforms, dtype=self.fdt, device=self.dev),
                             recognize)
        silent = torch.as_tensor(~(use_u | use_d), device=self.dev)
        codes = torch.where(silent[:, None], -1, codes)
        g = torch.where(silent, 0.0, g)
        return codes.cpu().numpy(), g.to(torch.float64).cpu().numpy()

    def _in_order(self, u_ptr, u_idx, use_h, prev, d_ptr, d_idx, csa, min_active, require_u, uniforms, recognize,
                  learn, freeze_at, n_set):
        lam, q, k = csa[:3]
        n = u_ptr.size - 1
        codes = torch.full((n, q), -1, dtype=torch.int64, device=self.dev)
        gs = torch.zeros(n, dtype=self.fdt, device=self.dev)
        uni = torch.as_tensor(uniforms, dtype=self.fdt, device=self.dev)
        prev_code, prev_on = self._long(prev), bool(prev[0] >= 0)
        newly = torch.zeros((), dtype=torch.int64, device=self.dev)
        for t in range(n):
            ui, di = u_idx[u_ptr[t]:u_ptr[t + 1]], d_idx[d_ptr[t]:d_ptr[t + 1]]
            h_on = bool(use_h[t]) and prev_on
            if ui.size < min_active:
                if require_u:
                    ui, di, h_on = ui[:0], di[:0], False
                elif ui.size:
                    ui = ui[:0]
            if ui.size == 0 and not h_on and di.size == 0:
                prev_on = False
                continue
            sources = []  # in the kernel's order: U, H, D
            if ui.size:
                sources.append((self.u, self._long(ui), lam[0]))
            if h_on:
                sources.append((self.h, prev_code, lam[1]))
            if di.size:
                sources.append((self.d, self._long(di), lam[2]))
            v = torch.ones(q * k, dtype=self.fdt, device=self.dev)
            for w, idx, lam_s in sources:
                v = v * self._support(w, idx, lam_s)
            code, g = self._csa(v.view(1, q, k), csa, uni[t:t + 1], recognize)
            code = code[0]
            if learn and (freeze_at < 0 or int(n_set[0]) + int(newly) < freeze_at):
                for w, idx, _ in sources:
                    rows, cols = idx[:, None], code[None, :]
                    if w is self.u:
                        newly += (w[rows, cols] == 0).sum()
                    w[rows, cols] = 1
            codes[t], gs[t] = code, g[0]
            prev_code, prev_on = code, True
        n_set[0] += int(newly)
        prev[:] = codes[-1].cpu().numpy() if n else prev
        return codes.cpu().numpy(), gs.to(torch.float64).cpu().numpy()

    def reconstruct(self, cells: np.ndarray, threshold: float) -> np.ndarray:
        """As :meth:`neurosim.models.sparsey_numba.MacArrays.reconstruct`, for all codes at once."""
        n_cells = self.u.shape[1]
        on = cells >= 0
        onehot = torch.zeros((cells.shape[0], n_cells), dtype=self.fdt, device=self.dev)
        rows, cols = np.nonzero(on)
        onehot[self._long(rows), self._long(cells[rows, cols])] = 1.0
        votes = onehot @ self.u.T.to(self.fdt)
        need = torch.as_tensor(np.maximum(1.0, threshold * on.sum(1)), dtype=self.fdt, device=self.dev)
        out = (votes >= need[:, None]) & torch.as_tensor(on.any(1), device=self.dev)[:, None]
        return out.cpu().numpy()
