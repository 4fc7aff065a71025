"""The execution layer: one task type, one function that runs it, one batch runner.

``model`` and ``scenarios`` below it, ``experiments`` and ``calibration`` above it (both use it,
neither imports the other's runner).
"""

from .batch import BatchError, Meter, RunStore, default_workers, fingerprint, run_batch
from .task import TABLES, Task, outcomes_row, run, run_model

__all__ = ["BatchError", "Meter", "RunStore", "TABLES", "Task", "default_workers", "fingerprint",
           "outcomes_row", "run", "run_batch", "run_model"]
