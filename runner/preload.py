"""Imported by the runner's fork server before it forks the workers (``set_forkserver_preload``):
the model's compiled kernels are made ready there once (``model.kernels.load``: numba's start and
the on-disk cache, about 0.2 s), not in every worker on its first run (docs/performance.md)."""

from model import kernels

kernels.load()
