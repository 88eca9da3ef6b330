"""Desktop viewer (PySide6 + pyqtgraph) of recall and forgetting."""
