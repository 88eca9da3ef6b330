"""The one place the viewer imports Qt: PySide6 through pyqtgraph's binding shim.

Every other viewer module takes ``QtCore``, ``QtGui``, ``QtWidgets``, ``Signal`` and ``pg``
from here, so the binding is chosen once (pyqtgraph reads ``PYQTGRAPH_QT_LIB``).
"""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import pyqtgraph as pg  # noqa: E402
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets  # noqa: E402

Signal = QtCore.Signal
# rasters and bit grids are indexed [row, column] = [neuron, time bin]
pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)


def application(argv: list[str] | None = None) -> QtWidgets.QApplication:
    """The running QApplication, or a new one."""
    app = QtWidgets.QApplication.instance()
    return app if app is not None else QtWidgets.QApplication(argv or ["neurosim"])


__all__ = ["QtCore", "QtGui", "QtWidgets", "Signal", "application", "pg"]
