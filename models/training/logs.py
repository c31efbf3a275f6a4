"""Loss logs of a run: ``losses.csv`` and TensorBoard scalars.

Rows of ``losses.csv`` hold ``stage``, ``iteration`` (iterations done in that stage), ``lr``, ``seconds``
(training time of the stage so far) and one column ``UPDATE/TERM`` per loss term and update (means over the
iterations since the previous row, and over the processes), plus ``UPDATE/grad_norm`` (before clipping). A
stage whose terms add columns rewrites the file with the wider header; a resumed stage drops the rows logged
after its checkpoint, so the log of an interrupted and resumed run reads like that of an uninterrupted one.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from galtk.pipeline.replace import write_text_atomic

log = logging.getLogger(__name__)

FIXED_COLUMNS = ("stage", "iteration", "lr", "seconds")


class LossCsv:
    """``losses.csv``: append rows, widen the header when new terms appear, cut rows on resume.

    Parameters
    ----------
    path : Path
        The CSV file (created on the first row).
    stages : sequence of str
        The method's stage names in order (to drop the rows of later stages when an earlier one restarts).
    """

    def __init__(self, path: Path, stages: Sequence[str]) -> None:
        self.path = path
        self.stages = list(stages)
        self.columns: list[str] = list(FIXED_COLUMNS)
        self.rows: list[dict[str, str]] = []
        if path.exists():
            with open(path, newline="", encoding="utf-8") as stream:
                reader = csv.DictReader(stream)
                self.columns = list(reader.fieldnames or FIXED_COLUMNS)
                self.rows = list(reader)

    def truncate(self, stage: str, iteration: int) -> None:
        """Keep only the rows logged before ``stage`` reached ``iteration`` (those of earlier stages too)."""
        index = self.stages.index(stage)

        def keep(row: dict[str, str]) -> bool:
            row_index = self.stages.index(row["stage"]) if row["stage"] in self.stages else -1
            return row_index < index or (row_index == index and int(row["iteration"]) <= iteration)

        kept = [row for row in self.rows if keep(row)]
        if len(kept) != len(self.rows):
            self.rows = kept
            self._rewrite()

    def append(self, row: Mapping[str, Any]) -> None:
        """Add one row; unseen columns widen the header (the file is rewritten once)."""
        text = {key: _format(value) for key, value in row.items()}
        self.rows.append(text)
        new = [key for key in text if key not in self.columns]
        if new or not self.path.exists():
            self.columns.extend(new)
            self._rewrite()
            return
        with open(self.path, "a", newline="", encoding="utf-8") as stream:
            csv.DictWriter(stream, fieldnames=self.columns).writerow(text)

    def _rewrite(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns)
        writer.writeheader()
        writer.writerows(self.rows)
        write_text_atomic(self.path, buffer.getvalue())


def _format(value: Any) -> str:
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


class TensorBoardLog:
    """Scalars of every logged row as TensorBoard events, tagged ``STAGE/UPDATE/TERM`` and ``STAGE/lr``.

    The global step is the iteration counted over all stages, so a resumed run can purge the events logged
    after its checkpoint. Does nothing if the ``tensorboard`` package is not installed.

    Parameters
    ----------
    directory : Path
        Event directory.
    purge_step : int
        Global step of the checkpoint the run (re)starts from: later events of an earlier launch are hidden.
    """

    def __init__(self, directory: Path, purge_step: int) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            log.info("tensorboard is not installed: losses go to losses.csv only")
            self._writer = None
            return
        self._writer = SummaryWriter(str(directory), purge_step=purge_step if purge_step > 0 else None)

    def write(self, stage: str, global_step: int, values: Mapping[str, float]) -> None:
        """Log ``values`` (name -> number) of ``stage`` at ``global_step``."""
        if self._writer is None:
            return
        for name, value in values.items():
            self._writer.add_scalar(f"{stage}/{name}", value, global_step)

    def close(self) -> None:
        """Flush and close the event file."""
        if self._writer is not None:
            self._writer.close()
