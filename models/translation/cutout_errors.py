"""Why a cutout to translate cannot be used: one :class:`~galtk.errors.GaltkError` subclass per problem.

Every message starts with the file(s) (or store row) concerned, then says what is wrong, so the command line
can print it as one line and batch mode can list it among the skipped inputs.
"""

from __future__ import annotations

from galtk.errors import GaltkError


class InputCutoutError(GaltkError):
    """A cutout to translate cannot be used; ``source`` names the file(s), ``problem`` says why."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class UnreadableInput(InputCutoutError):
    """The file is missing or not FITS."""


class WrongShape(InputCutoutError):
    """The data have the wrong number of axes or planes, or are smaller than a cutout."""


class MissingBands(InputCutoutError):
    """Some of the bands u g r i z are not there, or a band cannot be told."""


class DuplicateBands(InputCutoutError):
    """Two images claim the same band."""


class MissingWcs(InputCutoutError):
    """An image has no (valid) WCS."""


class NonCelestialWcs(InputCutoutError):
    """An image's WCS has no RA/Dec axes."""


class OffGridInput(InputCutoutError):
    """An image does not cover the survey's cutout grid around the cutout centre."""


class NonFinitePixels(InputCutoutError):
    """NaN or infinite pixels on the cutout grid."""


class SurveyMismatch(InputCutoutError):
    """The survey cannot be told, or the pixel scale, shape and headers contradict each other."""


class UnitError(InputCutoutError):
    """A pixel unit galtk cannot convert."""
