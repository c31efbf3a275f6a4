"""Every error galtk reports to its user, in one place.

The command line turns a :class:`GaltkError` into one line on standard error and exit code 1; any other
exception is a bug and keeps its traceback. Each stage raises the subclass named after it, so a caller can
tell, say, a missing checkpoint (:class:`CheckpointError`) from an unreadable input cutout
(:class:`InputCutoutError`) without parsing messages.
"""

# Every command


class GaltkError(Exception):
    """A problem the user can fix (bad input, bad configuration, a file in the way)."""


class UsageError(GaltkError):
    """Options that exclude each other, or that a command cannot use together."""


class ConfigError(GaltkError):
    """galtk.toml is missing, unreadable or holds unknown keys or values of the wrong type."""


class StoreError(GaltkError):
    """A cutout store is missing, malformed, or would be overwritten."""


class BusyError(GaltkError):
    """Another galtk process is writing the same store, run or report (it holds the lock)."""


# Catalogs and sources (galtk fetch)


class CatalogError(GaltkError):
    """A catalog file cannot be used at all (unreadable, or without coordinate columns)."""


class DownloadError(GaltkError):
    """A file could not be downloaded after all retries (or the server refused it)."""


class SkyServerError(GaltkError):
    """SkyServer answered with an error, or could not be reached after retries."""


class CadcError(GaltkError):
    """CADC answered with an error, or could not be reached after retries."""


# galtk crossmatch and galtk preprocess


class CrossmatchError(GaltkError):
    """The inputs or settings of a cross-match cannot give a usable data set."""


class SchedulerError(GaltkError):
    """The dask scheduler cannot be used (unknown name, unreachable address)."""


# galtk train


class TrainingDataError(GaltkError):
    """The cross-match and preprocess outputs cannot give a training set."""


class RunError(GaltkError):
    """A run directory is missing, in the way, or does not match what is asked for."""


class CheckpointError(GaltkError):
    """A checkpoint is missing, unreadable, or was written by a different configuration."""


class TrainingError(GaltkError):
    """Training cannot go on (non-finite losses, missing frozen networks)."""


# galtk translate: the model, the outputs, and why an input cutout cannot be used (each message starts with
# the file(s) or store row concerned, so batch mode can list it among the skipped inputs)


class TranslationError(GaltkError):
    """A model cannot be found or loaded, or cannot translate the given images."""


class OutputExists(GaltkError):
    """The output file exists and overwriting was not asked for."""


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


# galtk evaluate


class EvaluationError(GaltkError):
    """Evaluation inputs are inconsistent, or a report is in the way."""
