"""The training data of a run: the cross-match and preprocess outputs opened once per CFHT array."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from galtk.models.methods import Method
from galtk.models.training.batches.loader import StoreBatchSource
from galtk.models.training.distributed import Distributed
from galtk.models.training.settings import TrainSettings
from galtk.models.training.updates import Stage
from galtk.pipeline.workspace import Workspace

MEMORY_MODES = {"auto": None, "hold": True, "stream": False}
"""``memory`` setting -> ``in_memory`` argument of :meth:`StoreBatchSource.open`."""


@dataclass
class StoreBatchSources:
    """The batch sources of a run read from the preprocessed cross-match outputs, for one process.

    Each stage's :class:`StoreBatchSource` is opened once per CFHT array (``rescaled`` or ``regridded``) and
    shared by the stages that read the same array.

    Attributes
    ----------
    paired, unpaired_sdss, unpaired_cfht : Path
        The cross-match outputs, preprocessed.
    """

    paired: Path
    unpaired_sdss: Path
    unpaired_cfht: Path
    _opened: dict[str, StoreBatchSource] = field(default_factory=dict, repr=False)

    @classmethod
    def of_workspace(cls, workspace: Workspace) -> StoreBatchSources:
        """The cross-match outputs named by ``[crossmatch]`` of a workspace."""
        from galtk.pipeline.crossmatch.stage import check_outputs_whole

        outputs = workspace.crossmatch_outputs()
        check_outputs_whole(outputs)
        return cls(outputs.paired, outputs.unpaired["sdss"], outputs.unpaired["cfht"])

    def __call__(self, stage: Stage, context: Distributed, settings: TrainSettings) -> StoreBatchSource:
        """The batches of ``stage`` for this process (batch sizes, seed and memory mode of ``settings``)."""
        if stage.cfht_array not in self._opened:
            self._opened[stage.cfht_array] = StoreBatchSource.open(
                self.paired,
                self.unpaired_sdss,
                self.unpaired_cfht,
                cfht_array=stage.cfht_array,
                batch_unpaired=settings.batch_size,
                batch_pairs=settings.batch_pairs,
                seed=settings.seed,
                in_memory=MEMORY_MODES[settings.memory],
                device=context.device,
                rank=context.rank,
                world_size=context.world_size,
            )
        return self._opened[stage.cfht_array]

    def open_all(
        self, method: Method, context: Distributed, settings: TrainSettings
    ) -> list[StoreBatchSource]:
        """Open the data of every stage now (so missing inputs are reported before a run starts)."""
        return [self(stage, context, settings) for stage in method.stages]

    def describe(self) -> dict[str, Any]:
        """The stores and what was read from them (counts, arrays, exclusions), for the run snapshot."""
        return {
            "paired": str(self.paired),
            "unpaired_sdss": str(self.unpaired_sdss),
            "unpaired_cfht": str(self.unpaired_cfht),
            "opened": {array: data.describe() for array, data in self._opened.items()},
        }
