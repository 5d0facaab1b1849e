"""Acquisition: wire protocol, sources, calibration, the one series type and reader, recording."""
