"""PyNN's connectors (``pyNN.connectors``), made safe for NumPy 2 where a projection has one presynaptic cell.

PyNN 0.13 asks each column of a connection map for ``nonzero()``; when the presynaptic side
has one cell that column is a 0-d array, which NumPy 2 refuses ("Calling nonzero on 0d
arrays is not allowed"). sPyBlocks' gates connect single cells to single cells that way, so
every connector here is PyNN's own with each column given at least one dimension. Nothing
else changes: the connection rules, random distributions and parameters are PyNN's, except that
``FixedProbabilityConnector``'s ``p_connect`` must be a number in [0, 1] (PyNN takes text and p > 1).
"""

from __future__ import annotations

import inspect

import numpy as np
from pyNN import connectors as _pynn

from neurosim import _checks as ck


class _AtLeast1d:
    """Columns of a connection map as arrays of at least one dimension (see the module docstring)."""

    def _standard_connect(self, projection, connection_map_generator, distance_map=None):
        def columns(*args):
            for column in connection_map_generator(*args):
                if column is not True and column is not False and np.ndim(column) == 0:
                    column = np.atleast_1d(column)
                yield column

        return super()._standard_connect(projection, columns, distance_map)


def _fixed_probability(self, p_connect, *args, **kwargs) -> None:
    ck.in_range("FixedProbabilityConnector.p_connect", p_connect, 0.0, 1.0)
    _pynn.FixedProbabilityConnector.__init__(self, p_connect, *args, **kwargs)


# connectors whose arguments are checked before PyNN's own __init__ takes them (PyNN asserts p >= 0, takes text)
CHECKED_INIT = {"FixedProbabilityConnector": _fixed_probability}

CONNECTORS: dict[str, type] = {
    name: type(name, (_AtLeast1d, cls), {"__doc__": cls.__doc__, "__module__": __name__,
                                         **({"__init__": CHECKED_INIT[name]} if name in CHECKED_INIT else {})})
    for name, cls in vars(_pynn).items()
    if inspect.isclass(cls) and issubclass(cls, _pynn.Connector) and cls.__module__ == _pynn.__name__
}
globals().update(CONNECTORS)
__all__ = sorted(CONNECTORS)
