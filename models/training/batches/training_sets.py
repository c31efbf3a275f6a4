"""The three training sets of ``galtk train`` (SPEC section 6): unpaired SDSS, unpaired CFHT, training pairs.

:func:`open_training_sets` opens the cross-match outputs (the paired store and the two unpaired stores),
checks that ``galtk preprocess`` wrote the arrays training reads and that bands and image sizes agree, and
selects the rows training may use: pairs of the ``train`` split only (test pairs are never read), rows whose
``state`` is done with every band valid (in both members, for pairs). Rows are counted under the first rule
they fail. The loader then drops rows with non-finite pixels (:func:`drop_rows`), after reading them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import zarr

from galtk.errors import StoreError, TrainingDataError
from galtk.pipeline.preprocess.transforms import RESCALED_UNITS
from galtk.pipeline.stores.cutout_store import STATE_DONE, CutoutStore
from galtk.pipeline.stores.paired import PairedStore

UNPAIRED_SDSS = "unpaired_sdss"
UNPAIRED_CFHT = "unpaired_cfht"
TRAIN_PAIRS = "train_pairs"
#: Names of the three sets, in the order of a batch.
SET_NAMES = (UNPAIRED_SDSS, UNPAIRED_CFHT, TRAIN_PAIRS)
RESCALED = "rescaled"
REGRIDDED = "regridded"
#: Arrays the CFHT images may come from.
CFHT_ARRAYS = (RESCALED, REGRIDDED)

#: Exclusion reasons, in the order rows are tested.
TEST_SPLIT = "test split"
NOT_DONE = "not done"
INVALID_BAND = "invalid band"
NONFINITE = "non-finite pixels"


@dataclass(frozen=True)
class ImageArray:
    """One image array of a cutout store that a training set reads.

    Attributes
    ----------
    store : CutoutStore
    name : str
        ``rescaled`` or ``regridded``.
    array : zarr.Array
        The array (object, band, y, x).
    """

    store: CutoutStore
    name: str
    array: zarr.Array

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """Shape (band, y, x) of one image."""
        return tuple(int(size) for size in self.array.shape[1:])  # type: ignore[return-value]

    @property
    def row_bytes(self) -> int:
        """Bytes of one float32 image."""
        return 4 * int(np.prod(self.image_shape))


@dataclass
class TrainingSet:
    """The rows of a cutout store, or of both members of a paired store, that training may use.

    Attributes
    ----------
    name : str
        One of :data:`SET_NAMES`.
    path : Path
        The store (the paired store for pairs).
    arrays : tuple of ImageArray
        One array, or two for pairs (SDSS member, CFHT member), aligned row by row.
    rows : ndarray of int64
        Usable rows of the store(s), ascending.
    excluded : dict of str to int
        Rows left out, per reason (:data:`TEST_SPLIT`, :data:`NOT_DONE`, :data:`INVALID_BAND`,
        :data:`NONFINITE`).
    """

    name: str
    path: Path
    arrays: tuple[ImageArray, ...]
    rows: np.ndarray
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        """Bytes of all usable images of the set (every array)."""
        return len(self.rows) * sum(array.row_bytes for array in self.arrays)


def open_training_sets(
    paired: str | Path,
    unpaired_sdss: str | Path,
    unpaired_cfht: str | Path,
    *,
    cfht_array: str = RESCALED,
) -> tuple[TrainingSet, TrainingSet, TrainingSet]:
    """Open and check the cross-match outputs and select the rows training may use.

    Parameters
    ----------
    paired : str or Path
        The paired store (``data/paired.zarr``).
    unpaired_sdss, unpaired_cfht : str or Path
        The unpaired cutout stores.
    cfht_array : {"rescaled", "regridded"}
        Array of the CFHT images (SDSS images always come from ``rescaled``).

    Returns
    -------
    tuple of TrainingSet
        Unpaired SDSS, unpaired CFHT and training pairs, before the check of their pixels.

    Raises
    ------
    StoreError
        If a store is missing or is not what it should be.
    TrainingDataError
        If an array is missing (naming the ``galtk preprocess`` command to run), bands or sizes disagree, or a
        set has no usable row.
    """
    if cfht_array not in CFHT_ARRAYS:
        raise ValueError(f"cfht_array must be one of {', '.join(CFHT_ARRAYS)}, not {cfht_array!r}")
    pairs_store = _open_paired(Path(paired))
    if len(pairs_store.surveys) != 2:
        raise TrainingDataError(f"{pairs_store.path} pairs {len(pairs_store.surveys)} surveys, not 2")
    survey_x, survey_y = pairs_store.surveys
    members = [pairs_store.member(survey) for survey in (survey_x, survey_y)]
    unpaired = [
        _open_unpaired(Path(path), survey)
        for path, survey in ((unpaired_sdss, survey_x), (unpaired_cfht, survey_y))
    ]
    _check_bands([*members, *unpaired])
    names = (RESCALED, cfht_array)
    member_arrays = tuple(
        _image_array(store, name, command_path=pairs_store.path)
        for store, name in zip(members, names, strict=True)
    )
    unpaired_arrays = tuple(
        _image_array(store, name, command_path=store.path)
        for store, name in zip(unpaired, names, strict=True)
    )
    for member, single in zip(member_arrays, unpaired_arrays, strict=True):
        _check_same_grid(member, single)

    split = pairs_store.split
    for member in members:
        if member.n_objects != len(split):
            raise StoreError(
                f"{member.path} has {member.n_objects} rows but {pairs_store.path} lists {len(split)} pairs"
            )
    train = split == "train"
    done = np.logical_and.reduce([member.state == STATE_DONE for member in members])
    valid = np.logical_and.reduce([member.valid[:].all(axis=1) for member in members])
    pairs = TrainingSet(
        name=TRAIN_PAIRS,
        path=pairs_store.path,
        arrays=member_arrays,
        rows=np.flatnonzero(train & done & valid).astype(np.int64),
        excluded={
            TEST_SPLIT: int(np.count_nonzero(~train)),
            NOT_DONE: int(np.count_nonzero(train & ~done)),
            INVALID_BAND: int(np.count_nonzero(train & done & ~valid)),
        },
    )
    sets = [_unpaired_set(name, array) for name, array in zip(SET_NAMES[:2], unpaired_arrays, strict=True)]
    result = (sets[0], sets[1], pairs)
    for training_set in result:
        check_not_empty(training_set)
    return result


def drop_rows(training_set: TrainingSet, keep: np.ndarray, reason: str) -> None:
    """Keep only ``rows[keep]`` of a set and count the others under ``reason``."""
    keep = np.asarray(keep, dtype=bool)
    training_set.excluded[reason] = training_set.excluded.get(reason, 0) + int(np.count_nonzero(~keep))
    training_set.rows = training_set.rows[keep]


def check_not_empty(training_set: TrainingSet) -> None:
    """Refuse a set without a usable row, saying why its rows were left out.

    Raises
    ------
    TrainingDataError
        If ``training_set.rows`` is empty.
    """
    if len(training_set.rows):
        return
    reasons = ", ".join(f"{count} {reason}" for reason, count in training_set.excluded.items() if count)
    raise TrainingDataError(
        f"{training_set.path} has no row usable for training ({training_set.name.replace('_', ' ')}"
        f"{': ' + reasons if reasons else ''})"
    )


def _unpaired_set(name: str, array: ImageArray) -> TrainingSet:
    store = array.store
    done = store.state == STATE_DONE
    valid = store.valid[:].all(axis=1)
    return TrainingSet(
        name=name,
        path=store.path,
        arrays=(array,),
        rows=np.flatnonzero(done & valid).astype(np.int64),
        excluded={NOT_DONE: int(np.count_nonzero(~done)), INVALID_BAND: int(np.count_nonzero(done & ~valid))},
    )


def _open_paired(path: Path) -> PairedStore:
    if not path.exists():
        raise StoreError(f"{path} does not exist; run `galtk crossmatch` first")
    return PairedStore.open(path)


def _open_unpaired(path: Path, survey: str) -> CutoutStore:
    if not path.exists():
        raise StoreError(f"{path} does not exist; run `galtk crossmatch` first")
    store = CutoutStore.open(path)
    if store.schema.survey != survey:
        raise TrainingDataError(f"{path} holds {store.schema.survey} cutouts, expected {survey} cutouts")
    return store


def _image_array(store: CutoutStore, name: str, *, command_path: Path) -> ImageArray:
    derived = store.derived_arrays()
    if name not in derived:
        if name == REGRIDDED and RESCALED in derived:
            raise TrainingDataError(
                f"{store.path} has no {REGRIDDED!r} array (it was preprocessed without regridding); run"
                f" `galtk preprocess --overwrite {command_path}` in a workspace that includes the sdss survey"
            )
        raise TrainingDataError(
            f"{store.path} has no {name!r} array; run `galtk preprocess {command_path}` first"
        )
    units = store.array(name).attrs.get("units")
    if units != RESCALED_UNITS:
        raise TrainingDataError(
            f"{store.path}: array {name!r} is in {units!r}, not {RESCALED_UNITS!r}; run"
            f" `galtk preprocess --overwrite {command_path}`"
        )
    return ImageArray(store, name, store.array(name))


def _check_bands(stores: list[CutoutStore]) -> None:
    bands = {store.schema.bands for store in stores}
    if len(bands) > 1:
        listed = "; ".join(f"{store.path}: {' '.join(store.schema.bands)}" for store in stores)
        raise TrainingDataError(f"the training stores disagree on their bands ({listed})")


def _check_same_grid(member: ImageArray, single: ImageArray) -> None:
    """The paired and unpaired images of one survey must have the same shape and pixel scale."""
    scales = [
        float(array.array.attrs.get("pixel_scale", array.store.schema.pixel_scale))
        for array in (member, single)
    ]
    if member.image_shape != single.image_shape or not np.isclose(scales[0], scales[1], rtol=1e-6):
        grids = [
            _grid(array.image_shape, scale) for array, scale in zip((member, single), scales, strict=True)
        ]
        raise TrainingDataError(
            f"{member.name} images differ between {member.store.path} ({grids[0]})"
            f" and {single.store.path} ({grids[1]})"
        )


def _grid(shape: tuple[int, int, int], scale: float) -> str:
    return f"{shape[1]} x {shape[2]} px at {scale:g} arcsec/px"
