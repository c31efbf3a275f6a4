"""The training data of a run: the cross-match and preprocess outputs opened once per CFHT array."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from galtk.models.training.batches.loader import TrainingData
from galtk.models.training.distributed import Distributed
from galtk.models.training.methods import Stage, TrainingMethod
from galtk.pipeline.workspace import TrainSection

MEMORY_MODES = {"auto": None, "hold": True, "stream": False}
"""``memory`` setting -> ``in_memory`` argument of :meth:`TrainingData.open`."""


@dataclass
class StoreData:
    """Opens :class:`TrainingData` from the stores for each stage, once per CFHT array, for one process.

    Attributes
    ----------
    paired, unpaired_sdss, unpaired_cfht : Path
        The cross-match outputs, preprocessed.
    settings : TrainSection
        Batch sizes, seed and memory mode.
    """

    paired: Path
    unpaired_sdss: Path
    unpaired_cfht: Path
    settings: TrainSection
    _opened: dict[str, TrainingData] = field(default_factory=dict, repr=False)

    def __call__(self, stage: Stage, context: Distributed) -> TrainingData:
        """The batches of ``stage`` for this process (this is a ``DataFactory`` of the trainer)."""
        if stage.cfht_array not in self._opened:
            self._opened[stage.cfht_array] = TrainingData.open(
                self.paired,
                self.unpaired_sdss,
                self.unpaired_cfht,
                cfht_array=stage.cfht_array,
                batch_unpaired=self.settings.batch_size,
                batch_pairs=self.settings.batch_pairs,
                seed=self.settings.seed,
                in_memory=MEMORY_MODES[self.settings.memory],
                device=context.device,
                rank=context.rank,
                world_size=context.world_size,
            )
        return self._opened[stage.cfht_array]

    def open_all(self, method: TrainingMethod, context: Distributed) -> list[TrainingData]:
        """Open the data of every stage now (so missing inputs are reported before a run starts)."""
        return [self(stage, context) for stage in method.stages]

    def describe(self) -> dict[str, Any]:
        """The stores and what was read from them (counts, arrays, exclusions), for the run snapshot."""
        return {
            "paired": str(self.paired),
            "unpaired_sdss": str(self.unpaired_sdss),
            "unpaired_cfht": str(self.unpaired_cfht),
            "opened": {array: data.describe() for array, data in self._opened.items()},
        }
