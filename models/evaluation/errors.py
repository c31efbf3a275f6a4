"""The error of ``galtk evaluate``."""

from galtk.errors import GaltkError


class EvaluationError(GaltkError):
    """Evaluation inputs are inconsistent, or a report is in the way."""
