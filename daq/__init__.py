"""Acquisition: wire protocol, sources, calibration, the one series type and reader, recording."""

import os as _os

# Reading a recording allocates a few hundred MB of arrays that live for one open and are
# filled once (an hour at 1 kHz x 8 cells: 115 MB of counts, 230 MB of forces). numpy asks
# the kernel for transparent huge pages on every array over 4 MB; where THP is "madvise"
# with defrag "madvise" (Debian's default), such a page fault may stall to compact memory.
# Opening that hour in the review took 1.3-1.7 s, 0.7-1.0 s of it system time, with huge
# pages, and 1.0-1.1 s with 0.3 s of system time without (2-core EPYC VM, 2026-12-04); the
# analysis runs at the same speed either way. This is the switch numpy's own
# NUMPY_MADVISE_HUGEPAGE variable sets at import, so a person who sets that still decides.
if "NUMPY_MADVISE_HUGEPAGE" not in _os.environ:
    try:
        from numpy._core.multiarray import _set_madvise_hugepage as _set_hugepage
    except ImportError:  # a numpy without the switch: nothing to turn off
        pass
    else:
        _set_hugepage(False)
        del _set_hugepage
del _os
