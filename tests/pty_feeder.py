"""A real pseudo-terminal the tests write plate bytes into, with unplug and replug."""

from __future__ import annotations

import os
import tty
from pathlib import Path


class PtyPlate:
    """The master side of a pty, reached by readers through a stable symlink.

    Unplugging closes the master (the reader's next read fails with EIO, as a pulled USB
    cable does) and removes the link; replugging makes a new pty behind the same link.
    """

    def __init__(self, link: Path) -> None:
        self.link = Path(link)
        self.master: int | None = None
        self.plug()

    def plug(self) -> None:
        """Create a fresh pty and point the link at it."""
        master, slave = os.openpty()
        tty.setraw(slave)
        path = os.ttyname(slave)
        os.close(slave)
        self.master = master
        tmp = self.link.with_suffix(".tmp")
        if tmp.exists() or tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(path)
        os.replace(tmp, self.link)

    def write(self, data: bytes) -> None:
        """Send bytes as the plate would."""
        assert self.master is not None
        view = memoryview(data)
        while view:
            n = os.write(self.master, view)
            view = view[n:]

    def read_available(self) -> bytes:
        """Whatever the host wrote to the plate (commands), without blocking."""
        assert self.master is not None
        os.set_blocking(self.master, False)
        try:
            return os.read(self.master, 4096)
        except BlockingIOError:
            return b""
        finally:
            os.set_blocking(self.master, True)

    def unplug(self) -> None:
        """Pull the cable."""
        if self.master is not None:
            os.close(self.master)
            self.master = None
        if self.link.is_symlink():
            self.link.unlink()

    def close(self) -> None:
        """Tidy up."""
        self.unplug()
