"""The faces: the command line, the Qt-free session layer, the terminal view and the Qt windows."""
