"""Hardware: plate presets, firmware, the simavr harness and the virtual plate."""
