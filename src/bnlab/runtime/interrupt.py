"""SIGINT and SIGTERM as exceptions, raised where Python can act on them.

Raised straight from a signal handler, KeyboardInterrupt can land inside a
finalizer that TensorFlow runs during ``fit`` and be swallowed ("Exception
ignored in ..."), so Ctrl-C would be lost. While training runs inside
:func:`deferred`, the first signal is only recorded, and :func:`check` —
called between epochs and between seeds — raises it. A second signal, or one
outside :func:`deferred`, raises at once.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

from bnlab.errors import Terminated

_pending: list[int] = []
_deferring = [0]


def install() -> None:
    signal.signal(signal.SIGINT, _handle)
    signal.signal(signal.SIGTERM, _handle)


def _exception(signum: int) -> BaseException:
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _handle(signum: int, frame) -> None:
    if _deferring[0] and not _pending:
        _pending.append(signum)
        return
    raise _exception(signum)


def check() -> None:
    """Raise the signal that arrived while deferred, if any."""
    if _pending:
        raise _exception(_pending.pop())


@contextmanager
def deferred() -> Iterator[None]:
    _deferring[0] += 1
    try:
        yield
    finally:
        _deferring[0] -= 1
    check()
