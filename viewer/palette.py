"""The viewer's shared colours: the panels' background and one colour per population (pyqtgraph)."""

from __future__ import annotations

import numpy as np

from neurosim.viewer.qt import pg

BACKGROUND = (18, 18, 24)


def population_colours(n: int) -> np.ndarray:
    """A lookup table: entry 0 the background, entry k the colour of population k (uint8 RGB)."""
    lut = np.zeros((n + 1, 3), dtype=np.uint8)
    lut[0] = BACKGROUND
    for k in range(n):
        lut[k + 1] = pg.intColor(k, hues=max(n, 1), values=1, maxValue=255, sat=200).getRgb()[:3]
    return lut
