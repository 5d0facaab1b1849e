"""The faces: the command line, the Qt-free session layer, the terminal view and the Qt windows."""

import os

# PyQt6 is the binding midfoot pins and stress-tests; another one in the same environment
# (Kinetics Toolkit, a test dependency, brings PyQt5) must never be picked up by pyqtgraph.
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PyQt6")
