"""Bilinear regridding of whole batches of cutouts onto another cutout grid (SPEC section 3, step 3).

Every galtk cutout lies on a north-up TAN grid centred on its object
(:func:`galtk.pipeline.geometry.cutout_wcs`), so the pixel mapping from one survey's grid onto another's
(CFHT 136 px at 0.186"/px onto SDSS 64 px at 0.396"/px) is the same for every object. :class:`RegridMap`
computes it once through the two cutouts' WCSs and applies it to arrays of any leading shape, e.g. a
(objects, bands, 136, 136) chunk, as a row pass and a column pass. For that mapping the row pass is a few
``torch.lerp`` calls on strided views of the input (no gather) and the column pass one batched matrix product
over 8 blocks of 17 input columns (:class:`_ColumnBlocks`), with an exact two-tap fallback for images that
hold NaN; other separable mappings use gathers. 0.06-0.12 ms per 5-band cutout on one core against the
4-8 ms of a per-image ``reproject.reproject_interp`` call on the same shared 2-core machine, i.e. 50-110
times faster depending on its load (``benchmarks/regrid.py``), with the same result as
``reproject_interp(order="bilinear")`` up to float32 rounding (the tests require max |difference| <= 1e-5 of
the image maximum).

Interpolation follows reproject's conventions: pixel values sit at pixel centres, output pixels whose centre
falls within the outer half of the input's border pixels take the border value, and output pixels outside the
input grid are NaN. A NaN input pixel makes every output pixel interpolated from it NaN, so invalid data stays
flagged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from galtk.pipeline.geometry import cutout_wcs
from galtk.pipeline.surveys import SURVEYS, SurveySpec

#: Reference position for computing the mapping; any position gives the same mapping (tested).
_REFERENCE_RA_DEC = (150.0, 2.0)


@dataclass(frozen=True, eq=False)
class _Axis:
    """Bilinear taps along one axis: output position i reads input ``lo[i]`` and ``lo[i] + 1``."""

    lo: np.ndarray
    frac: np.ndarray
    outside: np.ndarray

    @classmethod
    def from_positions(cls, positions: np.ndarray, n: int) -> _Axis:
        positions = np.asarray(positions, dtype=np.float64)
        outside = ~((positions >= -0.5) & (positions <= n - 0.5))
        clipped = np.clip(np.where(outside, 0.0, positions), 0.0, n - 1.0)
        lo = np.minimum(np.floor(clipped).astype(np.intp), n - 2)
        return cls(lo=lo, frac=(clipped - lo).astype(np.float32), outside=outside)


@dataclass(frozen=True, eq=False)
class _RowRuns:
    """The row pass as strided slices: output rows ``a:b`` read input rows ``first, first + step, ...`` and
    the rows below them, so each run is one ``torch.lerp`` of two strided views (no gather)."""

    runs: tuple[tuple[int, int, int, int], ...]
    frac: torch.Tensor

    #: More runs than this and per-call overhead outweighs the saved gathers.
    MAX_RUNS = 16

    @classmethod
    def from_axis(cls, axis: _Axis) -> _RowRuns | None:
        lo = [int(v) for v in axis.lo]
        runs, start = [], 0
        while start < len(lo):
            stop, step = start + 1, 1
            if stop < len(lo) and lo[stop] > lo[start]:
                step = lo[stop] - lo[start]
                while stop < len(lo) and lo[stop] - lo[stop - 1] == step:
                    stop += 1
            runs.append((start, stop, lo[start], step))
            start = stop
        if len(runs) > cls.MAX_RUNS:
            return None
        return cls(tuple(runs), torch.from_numpy(axis.frac.copy())[:, None])


@dataclass(frozen=True, eq=False)
class _ColumnBlocks:
    """The column pass as one batched matrix product over column blocks.

    Output columns ``j * size : (j + 1) * size`` read only input columns ``first + j * stride`` to
    ``first + j * stride + width``; block ``j`` is the product of those columns with ``weights[j]``
    (``width`` x ``size``, two non-zeros a column). CFHT onto SDSS: 8 blocks of 8 output columns, each from
    17 input columns (8 x 17 = 136), i.e. 17 multiply-adds per output pixel instead of 136 for a dense
    product. A non-finite input column makes its whole block non-finite (0 x NaN = NaN), so images whose
    result is not finite are redone with the exact two-tap gather (:meth:`RegridMap._columns_exact`).
    """

    size: int
    first: int
    stride: int
    width: int
    weights: np.ndarray

    @classmethod
    def from_axis(cls, axis: _Axis, n_in: int) -> _ColumnBlocks | None:
        n_out = len(axis.lo)
        for size in (8, 16, 4, 32):
            if n_out % size:
                continue
            count = n_out // size
            starts = axis.lo[::size]
            width = int((axis.lo[size - 1 :: size] + 2 - starts).max())
            stride = int(starts[1] - starts[0]) if count > 1 else 0
            if (count > 1 and not np.all(np.diff(starts) == stride)) or starts[-1] + width > n_in:
                continue
            block, within = np.divmod(np.arange(n_out), size)
            weights = np.zeros((count, width, size), np.float32)
            weights[block, axis.lo - starts[block], within] = 1 - axis.frac
            weights[block, axis.lo + 1 - starts[block], within] += axis.frac
            return cls(size, int(starts[0]), stride, width, weights)
        return None

    def apply(self, rows: np.ndarray, out: np.ndarray) -> None:
        """``rows`` (m, in_w) float32 C-contiguous -> ``out`` (m, out_w) (a C-contiguous view)."""
        m, in_w = rows.shape
        count = len(self.weights)
        item = rows.itemsize
        columns = np.lib.stride_tricks.as_strided(
            rows[:, self.first :],
            shape=(count, m, self.width),
            strides=(self.stride * item, in_w * item, item),
            writeable=False,
        )
        np.matmul(columns, self.weights, out=out.reshape(m, count, self.size).transpose(1, 0, 2))


@dataclass(frozen=True, eq=False)
class RegridMap:
    """A fixed bilinear pixel mapping from an input image grid onto an output grid.

    Build it with :meth:`between_cutouts` (or :meth:`from_coordinates`) and apply it with :meth:`apply`.
    A mapping whose input column depends only on the output column and whose input row depends only on the
    output row (true for two north-up TAN grids with the same tangent point) is applied as two 1-D passes,
    rows first; any other mapping as a 2-D four-neighbour gather.

    Attributes
    ----------
    in_shape, out_shape : tuple of int
        (height, width) of the input and output images.
    x, y : ndarray, shape out_shape
        Input pixel coordinates (0-based) of every output pixel centre.
    """

    in_shape: tuple[int, int]
    out_shape: tuple[int, int]
    x: np.ndarray
    y: np.ndarray
    _rows: _Axis | None
    _cols: _Axis | None
    _row_runs: _RowRuns | None = None
    _col_blocks: _ColumnBlocks | None = None

    #: Images processed per step of the separable kernel (keeps its work arrays in the CPU cache).
    _STEP = 4
    #: Elements per torch call of the fast kernel: torch's parallel grain (``at::internal::GRAIN_SIZE``).
    #: Below it a call never starts intra-op threads, which would fight the caller's threads (dask workers).
    _TORCH_GRAIN = 32768

    @classmethod
    def from_coordinates(cls, x: np.ndarray, y: np.ndarray, in_shape: tuple[int, int]) -> RegridMap:
        """Mapping for output pixels at given 0-based input pixel coordinates.

        Parameters
        ----------
        x, y : ndarray
            Input column and row coordinate of every output pixel centre (2-D, the output shape).
        in_shape : tuple of int
            (height, width) of the input images (each at least 2 pixels).

        Returns
        -------
        RegridMap
        """
        height, width = (int(n) for n in in_shape)
        if height < 2 or width < 2:
            raise ValueError("input images need at least 2 x 2 pixels")
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if x.ndim != 2 or x.shape != y.shape:
            raise ValueError("x and y must be 2-D arrays of the output shape")
        separable = np.ptp(x, axis=0).max() < 1e-6 and np.ptp(y, axis=1).max() < 1e-6
        rows = _Axis.from_positions(y[:, 0], height) if separable else None
        cols = _Axis.from_positions(x[0, :], width) if separable else None
        row_runs = col_blocks = None
        if rows is not None and cols is not None and not (rows.outside.any() or cols.outside.any()):
            row_runs = _RowRuns.from_axis(rows)
            col_blocks = _ColumnBlocks.from_axis(cols, width)
        return cls(
            (height, width), (int(x.shape[0]), int(x.shape[1])), x, y, rows, cols, row_runs, col_blocks
        )

    @classmethod
    def between_cutouts(
        cls, *, from_scale: float, from_size: int, to_scale: float, to_size: int
    ) -> RegridMap:
        """Mapping from cutouts of ``from_size`` px at ``from_scale`` arcsec/px onto cutouts of ``to_size`` px
        at ``to_scale`` arcsec/px centred on the same object.

        The mapping is computed once (and cached) through the two cutouts' WCSs: ``pixel_to_world`` on the
        output grid, then ``world_to_pixel`` on the input grid.
        """
        return _between_cutouts(float(from_scale), int(from_size), float(to_scale), int(to_size))

    @property
    def separable(self) -> bool:
        """True if the mapping is applied as two 1-D passes."""
        return self._rows is not None

    @property
    def fast(self) -> bool:
        """True if the separable passes run as strided ``torch.lerp`` rows and a blocked column product."""
        return self._row_runs is not None and self._col_blocks is not None

    def apply(self, images: np.ndarray) -> np.ndarray:
        """Regrid an array of images of shape ``(..., in_h, in_w)`` to ``(..., out_h, out_w)`` (float32).

        Parameters
        ----------
        images : ndarray
            Images on the input grid; any leading dimensions (objects, bands).

        Returns
        -------
        ndarray
            Float32 images on the output grid; NaN outside the input grid and next to NaN input pixels.
        """
        images = np.asarray(images)
        if images.shape[-2:] != self.in_shape:
            raise ValueError(
                f"images have shape {images.shape}, expected (..., {self.in_shape[0]}, {self.in_shape[1]})"
            )
        lead = images.shape[:-2]
        stack = np.ascontiguousarray(images.reshape(-1, *self.in_shape), dtype=np.float32)
        if self.fast:
            out = self._apply_fast(stack)
        elif self.separable:
            out = self._apply_separable(stack)
        else:
            out = self._apply_gather(stack)
        return out.reshape(*lead, *self.out_shape)

    def _apply_fast(self, stack: np.ndarray) -> np.ndarray:
        runs, blocks, cols = self._row_runs, self._col_blocks, self._cols
        assert runs is not None and blocks is not None and cols is not None
        out_h, out_w = self.out_shape
        in_w = self.in_shape[1]
        out = np.empty((len(stack), out_h, out_w), dtype=np.float32)
        if not stack.flags.writeable:  # torch tensors cannot share read-only memory
            stack = stack.copy()
        source = torch.from_numpy(stack)
        # CFHT onto SDSS: 30 images a step (a 1 MB row buffer, in the L2 cache; each column product is then
        # 1920 x 17 x 8 multiply-adds, under the size where OpenBLAS starts threads by default).
        step = max(1, self._TORCH_GRAIN // (max(b - a for a, b, *_ in runs.runs) * in_w))
        rows = np.zeros((step, out_h, in_w), dtype=np.float32)
        rows_t = torch.from_numpy(rows)
        for start in range(0, len(stack), step):
            block = source[start : start + step]
            n = len(block)
            for a, b, first, stride in runs.runs:
                last = first + stride * (b - a - 1)
                torch.lerp(
                    block[:, first : last + 1 : stride],
                    block[:, first + 1 : last + 2 : stride],
                    runs.frac[a:b],
                    out=rows_t[:n, a:b],
                )
            # Always the full buffer: a product's rounding can depend on its row count, and an image's result
            # must not depend on how many others it is regridded with.
            done = out[start : start + n] if n == step else np.empty((step, out_h, out_w), np.float32)
            blocks.apply(rows.reshape(step * out_h, in_w), done.reshape(step * out_h, out_w))
            if n < step:
                out[start:] = done[:n]
                done = out[start:]
            # Sums propagate NaN and infinity: redo the few images whose blocks were contaminated.
            redo = np.flatnonzero(~np.isfinite(done.reshape(n, -1).sum(axis=1)))
            if redo.size:
                done[redo] = self._columns_exact(rows[redo])
        return out

    def _columns_exact(self, rows: np.ndarray) -> np.ndarray:
        """The column pass as a two-tap gather: NaN only where one of the two taps is NaN."""
        cols = self._cols
        assert cols is not None
        low = np.take(rows, cols.lo, axis=2)
        high = np.take(rows, cols.lo + 1, axis=2)
        high -= low
        high *= cols.frac
        low += high
        return low

    def _apply_separable(self, stack: np.ndarray) -> np.ndarray:
        rows, cols = self._rows, self._cols
        assert rows is not None and cols is not None
        out_h, out_w = self.out_shape
        in_w = self.in_shape[1]
        out = np.empty((len(stack), out_h, out_w), dtype=np.float32)
        step = self._STEP
        low = np.empty((step, out_h, in_w), dtype=np.float32)
        high = np.empty_like(low)
        right = np.empty((step, out_h, out_w), dtype=np.float32)
        row_frac = rows.frac[:, None]
        for start in range(0, len(stack), step):
            block = stack[start : start + step]
            n = len(block)
            a, b, d, o = low[:n], high[:n], right[:n], out[start : start + n]
            np.take(block, rows.lo, axis=1, out=a, mode="clip")
            np.take(block, rows.lo + 1, axis=1, out=b, mode="clip")
            b -= a
            b *= row_frac
            a += b
            np.take(a, cols.lo, axis=2, out=o, mode="clip")
            np.take(a, cols.lo + 1, axis=2, out=d, mode="clip")
            d -= o
            d *= cols.frac
            o += d
        if rows.outside.any():
            out[:, rows.outside, :] = np.nan
        if cols.outside.any():
            out[:, :, cols.outside] = np.nan
        return out

    def _apply_gather(self, stack: np.ndarray) -> np.ndarray:
        height, width = self.in_shape
        rows = _Axis.from_positions(self.y.ravel(), height)
        cols = _Axis.from_positions(self.x.ravel(), width)
        flat = stack.reshape(len(stack), -1)
        out = np.zeros((len(stack), rows.lo.size), dtype=np.float32)
        for dy, wy in ((0, 1 - rows.frac), (1, rows.frac)):
            for dx, wx in ((0, 1 - cols.frac), (1, cols.frac)):
                term = np.take(flat, (rows.lo + dy) * width + cols.lo + dx, axis=1)
                term *= wy * wx
                out += term
        out[:, rows.outside | cols.outside] = np.nan
        return out


@lru_cache(maxsize=16)
def _between_cutouts(from_scale: float, from_size: int, to_scale: float, to_size: int) -> RegridMap:
    x, y = _cutout_coordinates(from_scale, from_size, to_scale, to_size)
    return RegridMap.from_coordinates(x, y, (from_size, from_size))


@lru_cache(maxsize=64)
def _cutout_coordinates(
    from_scale: float, from_size: int, to_scale: float, to_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Input pixel coordinates of every output pixel centre, for two cutouts centred on the same object."""
    ra, dec = _REFERENCE_RA_DEC
    wcs_in = cutout_wcs(ra, dec, from_scale, from_size)
    wcs_out = cutout_wcs(ra, dec, to_scale, to_size)
    yy, xx = np.mgrid[:to_size, :to_size]
    world = wcs_out.pixel_to_world_values(xx.astype(float), yy.astype(float))
    x, y = wcs_in.world_to_pixel_values(*world)
    return np.asarray(x), np.asarray(y)


def regrid_cutouts(
    images: np.ndarray,
    *,
    from_scale: float,
    to_scale: float,
    to_size: int,
    shifts: np.ndarray | None = None,
) -> np.ndarray:
    """Bilinearly regrid cutouts ``(..., n, n)`` at ``from_scale`` onto ``to_size`` px at ``to_scale``.

    Parameters
    ----------
    images : ndarray
        Square cutouts on a north-up TAN grid centred on their objects.
    from_scale, to_scale : float
        Input and output pixel scales in arcsec per pixel.
    to_size : int
        Output cutout side in pixels.
    shifts : ndarray, shape (N, 2), optional
        For images ``(N, ..., n, n)``: per image, how far (x, y input pixels) the object lies from where a
        centred cutout has it (native-pixel cutouts carry their object up to half a pixel off centre, and a
        target grid's own offset moves where the object must land). Images without a shift share one mapping.

    Returns
    -------
    ndarray
        Float32 cutouts of shape ``(..., to_size, to_size)``.
    """
    size = np.shape(images)[-1]
    mapping = RegridMap.between_cutouts(
        from_scale=from_scale, from_size=size, to_scale=to_scale, to_size=to_size
    )
    if shifts is None or not np.any(shifts):
        return mapping.apply(images)
    images = np.asarray(images)
    shifts = np.asarray(shifts, dtype=np.float64)
    if shifts.shape != (len(images), 2):
        raise ValueError(f"shifts must have shape ({len(images)}, 2), got {shifts.shape}")
    out = np.empty((*images.shape[:-2], to_size, to_size), dtype=np.float32)
    still = ~shifts.any(axis=1)
    if still.any():
        out[still] = mapping.apply(images[still])
    x, y = _cutout_coordinates(float(from_scale), int(size), float(to_scale), int(to_size))
    for index in np.flatnonzero(~still):
        shifted = RegridMap.from_coordinates(x + shifts[index, 0], y + shifts[index, 1], (size, size))
        out[index] = shifted.apply(images[index])
    return out


@dataclass(frozen=True)
class RegridTarget:
    """The grid regridded images are put on.

    Parameters
    ----------
    survey : str
        Survey whose grid it is (``"sdss"``).
    pixel_scale : float
        Arcsec per pixel.
    size : int
        Cutout side in pixels.
    """

    survey: str
    pixel_scale: float
    size: int


def training_grid(surveys: Mapping[str, SurveySpec] | None = None) -> dict[str, RegridTarget]:
    """Where ``galtk preprocess`` regrids: CFHT onto the SDSS cutout grid (the regridded methods' grid).

    The methods trained on regridded CFHT images (``cyclegan``, ``augcgan``), their translations and their
    evaluation all use this grid.

    Parameters
    ----------
    surveys : mapping of str to SurveySpec, optional
        The surveys of a workspace (default: galtk's SDSS and CFHT); without SDSS nothing is regridded.

    Returns
    -------
    dict of str to RegridTarget
        ``{"cfht": RegridTarget("sdss", 0.396, 64)}`` for the default surveys.
    """
    surveys = SURVEYS if surveys is None else surveys
    if "sdss" not in surveys:
        return {}
    sdss = surveys["sdss"]
    return {"cfht": RegridTarget("sdss", sdss.pixel_scale, sdss.cutout_size)}


def regrid_to_training_grid(images: np.ndarray, survey: SurveySpec) -> np.ndarray:
    """``survey``'s cutouts on the grid training saw them on: CFHT's on the SDSS grid, others unchanged.

    Parameters
    ----------
    images : ndarray, shape (..., n, n)
        Cutouts of ``survey`` (rescaled, as training reads them).
    survey : SurveySpec
        Their survey.

    Returns
    -------
    ndarray
        Float32 cutouts on the training grid.
    """
    target = training_grid().get(survey.name)
    if target is None:
        return np.asarray(images, dtype=np.float32)
    return regrid_cutouts(
        images, from_scale=survey.pixel_scale, to_scale=target.pixel_scale, to_size=target.size
    )
