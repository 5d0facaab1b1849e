"""The one exception a person can meet: a plain sentence saying what happened and what to do."""

from __future__ import annotations


class MidfootError(Exception):
    """A failure a user can act on.

    The message is one sentence, shown as it is (no traceback) by the command line and the
    GUI: what happened, then what to do about it.
    """
