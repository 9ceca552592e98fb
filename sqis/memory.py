"""Freed memory given back to the operating system between the stages of a run.

The frames of a year are Arrow-backed, and Arrow's allocator (mimalloc) keeps the pages
of freed buffers for reuse. A stage that lets go of a delivery (the validated copies
after ingest, last years' files after the index) would otherwise leave the process's
resident size where the delivery put it, and the next stage's peak would stack on top
(at 1M students, ~0.8 GB: BENCHMARKS.md). Releasing costs a few milliseconds.
"""

from __future__ import annotations

import pyarrow as pa


def release_unused() -> None:
    """Return the Arrow allocator's unused pages to the operating system."""
    pa.default_memory_pool().release_unused()
