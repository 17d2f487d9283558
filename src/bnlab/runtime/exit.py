"""Leave a process that loaded TensorFlow or MLflow without collecting its garbage.

The work is done and the files are closed by then; a collector pass over
those libraries' object graphs at interpreter exit only costs time
(docs/performance.md has the figure).
"""

from __future__ import annotations

import gc
import sys


def exit_now(status: int) -> None:
    gc.freeze()
    sys.exit(status)
