"""Ctrl-C, `kill` and a closed terminal: the signals that stop every face cleanly.

A stop signal never ends a command mid-write: the faces catch it, stop the plate and close
any recording, so the file is complete and the command exits 0.

The windows need care. Python runs a signal handler at the next bytecode the main thread
executes, which in a Qt app is usually inside one of our slots or a pyqtgraph ``paint``.
Quitting from there (Qt 6's quit() closes every window synchronously, which stops the plate
and indexes the recording) would tear the window down under a painter that is still
drawing on it, which can crash the process. So the handler only sets a flag; the quit
itself runs from the event loop, woken at once through the wake-up socket below.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from collections.abc import Callable, Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
WATCH_INTERVAL_MS = 200  # how often a window checks whether it should stop

Handler = Callable[[int, object], None]


def catch_stop_signals(handler: Handler) -> dict[int, object]:
    """Install ``handler`` for SIGINT, SIGTERM and SIGHUP.

    Parameters
    ----------
    handler
        Called as ``handler(signum, frame)`` on the main thread.

    Returns
    -------
    dict
        The previous handlers, for :func:`restore_signals`; empty off the main thread,
        where Python cannot install handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {s: signal.signal(s, handler) for s in STOP_SIGNALS}


def restore_signals(previous: dict[int, object]) -> None:
    """Put back the handlers :func:`catch_stop_signals` replaced."""
    for sig, handler in previous.items():
        signal.signal(sig, handler)  # type: ignore[arg-type]


@contextlib.contextmanager
def qt_quit_on_signals(
    app: object, requested: threading.Event, should_stop: Callable[[], bool] | None = None
) -> Iterator[None]:
    """Quit the Qt loop from the loop itself on a stop signal, or when ``should_stop()``.

    Parameters
    ----------
    app
        The QApplication whose ``exec()`` runs inside the block.
    requested
        Set by a stop signal; also honoured when it was set before the loop ran.
    should_stop
        Checked every ``WATCH_INTERVAL_MS`` on the loop (for example: the acquisition
        failed for good).
    """
    from pyqtgraph.Qt import QtCore  # noqa: PLC0415 - Qt only once a window is certain

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    read_sock, write_sock = socket.socketpair()
    read_sock.setblocking(False)
    write_sock.setblocking(False)

    def check() -> None:
        # Runs as a slot of the loop itself, never nested in a paint.
        if requested.is_set() or (should_stop is not None and should_stop()):
            app.quit()  # type: ignore[attr-defined]

    def drain() -> None:
        with contextlib.suppress(OSError):
            read_sock.recv(64)
        check()

    previous = catch_stop_signals(lambda signum, frame: requested.set())
    old_fd = signal.set_wakeup_fd(write_sock.fileno(), warn_on_full_buffer=False)
    notifier = QtCore.QSocketNotifier(read_sock.fileno(), QtCore.QSocketNotifier.Type.Read)
    notifier.activated.connect(drain)
    timer = QtCore.QTimer()
    timer.timeout.connect(check)
    timer.start(WATCH_INTERVAL_MS)
    try:
        yield
    finally:
        timer.stop()
        notifier.setEnabled(False)
        signal.set_wakeup_fd(old_fd)
        restore_signals(previous)
        read_sock.close()
        write_sock.close()
