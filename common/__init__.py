"""What every package shares: the vocabulary, the error type for bad input, strict file models.

The bottom of the dependency order: ``common`` <- ``model`` <- ``scenarios`` <- ``runner`` <-
``calibration`` <- ``experiments`` (and ``benchmarks``); see docs/architecture.md.
"""
