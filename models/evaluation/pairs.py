"""The test pairs of a paired store (``galtk crossmatch``) as arrays, and CFHT images on the SDSS grid.

``galtk evaluate`` translates the SDSS image of every test pair to CFHT and its CFHT image to SDSS, and
compares each translation with the pair's other image. :func:`read_test_pairs` reads those images in the
surveys' pixel units (SDSS nanomaggies, CFHT ZP30 ADU) with the true noise sigma of synthetic stores.
:func:`regrid_to_sdss_grid` puts CFHT images on the 64 x 64 SDSS grid the way the methods trained on
regridded CFHT images (``cyclegan``, ``augcgan``) see them, so that their outputs can be compared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from galtk.errors import EvaluationError, GaltkError
from galtk.pipeline.preprocess.regrid import regrid_to_training_grid
from galtk.pipeline.preprocess.transforms import inverse_rescale, rescale
from galtk.pipeline.stores.cutout_store import STATE_DONE
from galtk.pipeline.surveys import SurveySpec, get_survey

if TYPE_CHECKING:
    from galtk.pipeline.stores.cutout_store import CutoutStore
    from galtk.pipeline.stores.paired import PairedStore

#: Name of the per-object, per-band array of synthetic stores holding the true noise sigma (pixel unit).
TRUE_SIGMA_ARRAY = "noise_sigma"
#: The stores' per-band arrays of where the object lies on its cutout (x, y; see galtk.pipeline.sources.base).
OFFSET_ARRAYS = ("offset_x", "offset_y")
#: Rows read from the stores at a time.
READ_CHUNK = 64


@dataclass(frozen=True, eq=False)
class TestPairs:
    """The usable test pairs of a paired store, row by row in both surveys.

    Attributes
    ----------
    path : Path
        The paired store.
    bands : tuple of str
        Band names, in channel order (the same in both members).
    rows : ndarray of int, shape (N,)
        Row of each pair in the paired store.
    sdss, cfht : ndarray, shape (N, C, H, W), float32
        The SDSS images (nanomaggies, 64 x 64) and CFHT images (ZP30 ADU, 136 x 136) of the pairs.
    sdss_sigma, cfht_sigma : ndarray, shape (N, C), or None
        True per-pixel noise sigma of each image and band in its pixel unit (synthetic stores only).
    centres : dict of str to ndarray, shape (N, 2)
        Survey name -> (ra, dec) of the centre of each of its cutouts, degrees.
    sdss_ids, cfht_ids : ndarray of str, shape (N,)
        Object identifiers.
    n_test : int
        Test pairs in the store.
    skipped : int
        Test pairs read but left out because a band is invalid or holds NaN pixels in either survey.
    offsets : dict of str to ndarray, shape (N, 2)
        Survey name -> where each object lies on its cutout, (x, y) pixels from the centre pixel, averaged
        over the bands (the stores' ``offset_x``/``offset_y``: non-zero for cutouts of an image's own pixels);
        surveys whose store does not record it are left out.
    """

    __test__ = False

    path: Path
    bands: tuple[str, ...]
    rows: np.ndarray
    sdss: np.ndarray
    cfht: np.ndarray
    sdss_sigma: np.ndarray | None
    cfht_sigma: np.ndarray | None
    centres: dict[str, np.ndarray]
    sdss_ids: np.ndarray
    cfht_ids: np.ndarray
    n_test: int
    skipped: int
    offsets: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.rows.size)

    @property
    def surveys(self) -> dict[str, SurveySpec]:
        """``{"sdss": ..., "cfht": ...}`` with this set's bands."""
        return {name: _with_bands(get_survey(name), self.bands) for name in ("sdss", "cfht")}


def open_test_split(path: Path) -> tuple[PairedStore, np.ndarray, tuple[str, ...]]:
    """Open a paired store and find its test rows and bands, with the checks :func:`read_test_pairs` makes.

    Parameters
    ----------
    path : Path
        The paired store.

    Returns
    -------
    tuple
        ``(store, test_rows, bands)``: the opened :class:`~galtk.pipeline.stores.paired.PairedStore`, the rows
        whose split is ``"test"``, and the band names.

    Raises
    ------
    EvaluationError
        If there is no complete paired store at ``path``, it has no test pairs, or its members are not an
        SDSS and a CFHT store with the same bands in the surveys' units.
    """
    from galtk.pipeline.stores.paired import PairedStore, is_paired_store

    path = Path(path)
    if not is_paired_store(path):
        raise EvaluationError(f"no paired store at {path}; run `galtk crossmatch` first")
    try:
        store = PairedStore.open(path)
    except GaltkError as error:
        raise EvaluationError(str(error)) from None
    if set(store.surveys) != {"sdss", "cfht"}:
        pairs = " and ".join(store.surveys)
        raise EvaluationError(f"{path} pairs {pairs}; galtk evaluate needs sdss and cfht")
    bands: tuple[str, ...] | None = None
    for name in ("sdss", "cfht"):
        attributes = store.member(name).attrs
        survey = get_survey(name)
        if attributes.get("units") != survey.unit:
            raise EvaluationError(
                f"{path}/{name} holds pixels in {attributes.get('units')!r}, not {survey.unit!r}"
            )
        member_bands = tuple(attributes["bands"])
        if bands is not None and member_bands != bands:
            raise EvaluationError(
                f"{path}: the sdss member has bands {' '.join(bands)}, "
                f"the cfht member {' '.join(member_bands)}"
            )
        bands = member_bands
    test_rows = np.flatnonzero(store.split == "test")
    if test_rows.size == 0:
        raise EvaluationError(
            f"{path} has no test pairs; rerun `galtk crossmatch --overwrite` with --n-test or --test-fraction"
        )
    assert bands is not None
    return store, test_rows, bands


def read_test_pairs(
    path: Path,
    *,
    limit: int | None = None,
    on_start: Callable[[str, int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> TestPairs:
    """Read the test pairs of a paired store whose every band is valid and finite in both surveys.

    Parameters
    ----------
    path : Path
        The paired store (``[crossmatch] paired``).
    limit : int, optional
        Keep at most this many usable pairs (the first ones in store order).
    on_start : callable, optional
        Called as ``on_start("read test pairs", n)`` with the number of pairs wanted (all test pairs, or
        ``limit``).
    on_progress : callable, optional
        Called with the number of usable pairs found after every chunk of rows.

    Returns
    -------
    TestPairs

    Raises
    ------
    EvaluationError
        If the store is missing or unusable (see :func:`open_test_split`), or no test pair is usable.
    """
    if limit is not None and limit < 1:
        raise EvaluationError(f"the limit must be at least 1, got {limit}")
    store, test_rows, bands = open_test_split(path)
    members = {name: store.member(name) for name in ("sdss", "cfht")}
    has_sigma = all(TRUE_SIGMA_ARRAY in _extra_names(member) for member in members.values())
    wanted = test_rows.size if limit is None else min(limit, test_rows.size)
    if on_start is not None:
        on_start("read test pairs", int(wanted))
    kept: list[np.ndarray] = []
    images: dict[str, list[np.ndarray]] = {"sdss": [], "cfht": []}
    sigmas: dict[str, list[np.ndarray]] = {"sdss": [], "cfht": []}
    offsets: dict[str, list[np.ndarray]] = {
        name: [] for name, member in members.items() if OFFSET_ARRAYS[0] in _extra_names(member)
    }
    found = unusable = 0
    for position in range(0, test_rows.size, READ_CHUNK):
        if found >= wanted:
            break
        chunk = test_rows[position : position + READ_CHUNK]
        batches = {name: member.read(chunk) for name, member in members.items()}
        usable = np.ones(chunk.size, dtype=bool)
        for batch in batches.values():
            usable &= batch.state == STATE_DONE
            usable &= np.asarray(batch.valid).all(axis=1)
            usable &= np.isfinite(batch.images).all(axis=(1, 2, 3))
        good = usable
        usable = good & (np.cumsum(good) <= wanted - found)
        examined = chunk.size if found + good.sum() < wanted else int(np.flatnonzero(usable)[-1]) + 1
        unusable += examined - int(usable.sum())
        found += int(usable.sum())
        kept.append(chunk[usable])
        for name, batch in batches.items():
            images[name].append(np.asarray(batch.images[usable], dtype=np.float32))
            if has_sigma:
                sigmas[name].append(np.asarray(batch.extras[TRUE_SIGMA_ARRAY][usable], dtype=np.float32))
            if name in offsets:
                xy = [np.asarray(batch.extras[array][usable], np.float64) for array in OFFSET_ARRAYS]
                offsets[name].append(np.stack([np.nanmean(values, axis=1) for values in xy], axis=1))
        if on_progress is not None:
            on_progress(int(usable.sum()))
    rows = np.concatenate(kept) if kept else np.empty(0, dtype=np.int64)
    if rows.size == 0:
        raise EvaluationError(
            f"none of the {test_rows.size} test pairs of {path} has every band valid in both surveys"
        )
    return TestPairs(
        path=Path(path),
        bands=bands,
        rows=rows,
        sdss=np.concatenate(images["sdss"]),
        cfht=np.concatenate(images["cfht"]),
        sdss_sigma=np.concatenate(sigmas["sdss"]) if has_sigma else None,
        cfht_sigma=np.concatenate(sigmas["cfht"]) if has_sigma else None,
        centres={name: np.stack([m.ra[rows], m.dec[rows]], axis=1) for name, m in members.items()},
        sdss_ids=np.asarray(store.column("sdss_id"), dtype=object)[rows].astype(str),
        cfht_ids=np.asarray(store.column("cfht_id"), dtype=object)[rows].astype(str),
        n_test=int(test_rows.size),
        skipped=unusable,
        offsets={name: np.concatenate(parts) for name, parts in offsets.items()},
    )


def _extra_names(store: CutoutStore) -> set[str]:
    return {extra.name for extra in store.schema.extras}


def regridded_flux_factor() -> float:
    """Ratio of SDSS to CFHT pixel areas, ``(0.396 / 0.186)**2``.

    Regridding interpolates pixel values, so a regridded CFHT image holds flux per CFHT pixel area sampled
    on the SDSS grid; times this factor it holds flux per SDSS pixel.
    """
    return (get_survey("sdss").pixel_scale / get_survey("cfht").pixel_scale) ** 2


def regrid_to_sdss_grid(cfht_images: np.ndarray) -> np.ndarray:
    """CFHT images (ZP30 ADU, 136 x 136) on the 64 x 64 SDSS grid, regridded as for training.

    As ``galtk preprocess`` makes the ``regridded`` array the methods ``cyclegan`` and ``augcgan`` train on:
    rescaled (SPEC section 3), bilinearly regridded, then returned to ZP30 ADU by the exact inverse, and
    multiplied by :func:`regridded_flux_factor` so that pixels hold flux per SDSS pixel (sums over pixels
    are fluxes), as the CFHT outputs of :class:`galtk.models.translation.translator.Translator` for those
    methods do.

    Parameters
    ----------
    cfht_images : ndarray, shape (N, C, 136, 136)
        CFHT images in ZP30 ADU.

    Returns
    -------
    ndarray, shape (N, C, 64, 64), float32
    """
    cfht = get_survey("cfht")
    regridded = regrid_to_training_grid(rescale(np.asarray(cfht_images, dtype=np.float32), cfht), cfht)
    return inverse_rescale(regridded, cfht) * np.float32(regridded_flux_factor())


def _with_bands(survey: SurveySpec, bands: tuple[str, ...]) -> SurveySpec:
    return survey if survey.bands == bands else dataclasses.replace(survey, bands=bands)
