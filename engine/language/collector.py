"""Python's cyclic garbage collector paused while a process file is read and checked.

Reading and checking a file builds a large graph of plain values, positions and spec objects that holds
no reference cycles, yet every dict, list and tuple in it is an object the collector walks again at each
of its passes while the graph grows: for a 1 MB file that was over half of the reading time, and it made
the rules' time grow faster than the file (BENCHMARKS.md). The collector waits until the check is done.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the collector for the block; a block inside another leaves it to the outer one."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
