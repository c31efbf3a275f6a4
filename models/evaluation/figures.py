"""The figures of the evaluation report, one PNG per function (matplotlib, Agg canvas, no pyplot state).

Every function takes plain arrays -- fluxes in nanomaggies -- and a ``path`` to write; the report module
decides what goes into which figure. What each figure shows and how to read it: docs/metrics.md.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from astropy.visualization import LuptonAsinhStretch, ManualInterval, make_lupton_rgb
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from galtk.models.evaluation import metrics

#: Bands shown as red, green and blue in the colour composites, when present.
RGB_BANDS: tuple[str, str, str] = ("i", "r", "g")
#: Lupton asinh softening of the colour composites (astropy's default).
LUPTON_Q = 8.0
#: Linear stretch of the colour composites in units of the median noise sigma of the green band's originals.
LUPTON_STRETCH_IN_SIGMA = 10.0
#: Resolution of the PNGs.
DPI = 90
#: Colour of the originals in line plots; methods follow matplotlib's tab10 cycle.
ORIGINAL_COLOUR = "black"
#: A panel says which fraction of its pixels its colour scale clips to black from this fraction on.
CLIP_NOTE_FRACTION = 0.05


def plot_image_grid(
    path: Path,
    original: np.ndarray,
    generated: np.ndarray,
    bands: Sequence[str],
    *,
    title: str,
) -> None:
    """Original and generated images side by side, every band: a row pair per band, a column per object.

    Each object and band is shown with ``asinh(x / (3 s))`` where s is the noise sigma of the original (MAD
    of its high-passed image), between -3 s and the original's maximum, the same scale for both images. A
    row whose pixels are clipped to black (below -3 s) for at least :data:`CLIP_NOTE_FRACTION` of them says
    which fraction in its label.

    Parameters
    ----------
    path : Path
        PNG to write.
    original, generated : ndarray, shape (k, C, H, W)
        Images in nanomaggies.
    bands : sequence of str
        Band names.
    title : str
        Figure title.
    """
    count, n_bands = original.shape[:2]
    sigma = metrics.noise_sigma(original)
    tiles, labels = [], []
    for band in range(n_bands):
        for label, images in (("orig", original), ("gen", generated)):
            row = [_asinh_tile(images[i, band], original[i, band], sigma[i, band]) for i in range(count)]
            black = float(np.mean([tile == 0.0 for tile in row]))
            note = f" ({black:.0%} black)" if black >= CLIP_NOTE_FRACTION else ""
            labels.append(f"{bands[band]} {label}{note}")
            tiles.append(row)
    heading = f"{title}\nasinh(x / 3 sigma of the original), one scale per object and band for both images"
    _show_mosaic(path, _mosaic(tiles), labels, heading, cmap="gray")


def plot_image_rows(
    path: Path,
    rows: Sequence[tuple[str, np.ndarray]],
    reference: np.ndarray,
    sigma: np.ndarray,
    *,
    title: str,
) -> None:
    """Labelled rows of images of the same objects in one band, one column per object, one scale per object.

    Each tile is ``asinh(x / (3 s))`` between -3 s and the maximum of ``reference`` (s: ``sigma`` of the
    object), so every row of a column shares its scale.

    Parameters
    ----------
    path : Path
        PNG to write.
    rows : sequence of (str, ndarray of shape (k, H, W))
        Label and images of each row.
    reference : ndarray, shape (k, H, W)
        The images setting each column's scale.
    sigma : ndarray, shape (k,)
        Noise sigma of each object.
    title : str
        Figure title.
    """
    tiles = [
        [_asinh_tile(images[i], reference[i], float(sigma[i])) for i in range(len(reference))]
        for _, images in rows
    ]
    _show_mosaic(path, _mosaic(tiles), [label for label, _ in rows], title, cmap="gray")


def plot_band_curves(
    path: Path,
    x: np.ndarray,
    curves: Mapping[str, np.ndarray],
    bands: Sequence[str],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
) -> None:
    """One panel per band, one line per label (``curves[label]`` of shape (band, len(x))), log y axis."""
    figure, panels = _band_panels(len(bands))
    for index, (axes, band) in enumerate(zip(panels, bands, strict=True)):
        for (label, values), colour in zip(curves.items(), _colours(), strict=False):
            finite = np.isfinite(values[index]) & (values[index] > 0)
            axes.plot(x[finite], values[index][finite], color=colour, label=label, linewidth=1.2)
        axes.set_yscale("log")
        axes.set_title(band, fontsize=9)
        axes.set_xlabel(xlabel, fontsize=8)
        axes.tick_params(labelsize=7)
    panels[0].set_ylabel(ylabel, fontsize=8)
    panels[-1].legend(fontsize=7)
    figure.suptitle(title, fontsize=9)
    _save(figure, path)


def lupton_rgb(
    images: np.ndarray, bands: Sequence[str], *, stretch: float, q: float = LUPTON_Q
) -> np.ndarray:
    """Colour composite of one multi-band image with Lupton et al. (2004) asinh scaling.

    ``astropy.visualization.make_lupton_rgb`` with black at 0 flux: red, green, blue are the i, r, g bands
    (:data:`RGB_BANDS`) when present, otherwise the last, middle and first band.

    Parameters
    ----------
    images : ndarray, shape (C, H, W)
        One object in nanomaggies.
    bands : sequence of str
        Band names.
    stretch : float
        Linear stretch in nanomaggies (the flux that maps to about 0.4 of full scale).
    q : float, optional
        Asinh softening.

    Returns
    -------
    ndarray, shape (H, W, 3), uint8
    """
    red, green, blue = rgb_band_indices(bands)
    with np.errstate(invalid="ignore", divide="ignore"):  # astropy divides by 0 on black pixels, then masks
        return make_lupton_rgb(
            images[red],
            images[green],
            images[blue],
            interval=ManualInterval(vmin=0.0),
            stretch_object=LuptonAsinhStretch(stretch=stretch, Q=q),
        )


def rgb_band_indices(bands: Sequence[str]) -> tuple[int, int, int]:
    """Indices of the bands shown as red, green and blue (see :func:`lupton_rgb`)."""
    if all(band in bands for band in RGB_BANDS):
        red, green, blue = (list(bands).index(band) for band in RGB_BANDS)
        return red, green, blue
    return len(bands) - 1, len(bands) // 2, 0


def plot_rgb_comparison(
    path: Path,
    original: np.ndarray,
    generated_by_method: Mapping[str, np.ndarray],
    bands: Sequence[str],
    *,
    stretch: float,
    title: str,
) -> None:
    """Colour composites of the originals (first row) and of every method's images (one row each).

    Parameters
    ----------
    path : Path
        PNG to write.
    original : ndarray, shape (k, C, H, W)
        Originals in nanomaggies.
    generated_by_method : mapping of str to ndarray
        Method -> its images of the same objects (k', C, H, W), k' <= k.
    bands : sequence of str
        Band names.
    stretch : float
        Linear stretch of :func:`lupton_rgb`, the same for every panel.
    title : str
        Figure title.
    """
    rows = [("original", original), *generated_by_method.items()]
    count = original.shape[0]
    blank = np.zeros((*original.shape[-2:], 3))
    tiles = [
        [
            lupton_rgb(images[i], bands, stretch=stretch) / 255.0 if i < images.shape[0] else blank
            for i in range(count)
        ]
        for _, images in rows
    ]
    red, green, blue = (bands[index] for index in rgb_band_indices(bands))
    heading = f"{title}  (R, G, B = {red}, {green}, {blue}; Lupton asinh, Q = {LUPTON_Q:g})"
    _show_mosaic(path, _mosaic(tiles), [label for label, _ in rows], heading)


def plot_flux_difference(
    path: Path,
    original_sum: np.ndarray,
    difference_by_method: Mapping[str, np.ndarray],
    reference_noise: np.ndarray,
    bands: Sequence[str],
    *,
    title: str,
    bins: int = 10,
) -> None:
    """The paper's Fig. 5 per band: sum |generated - original| against sum |original|, log-log.

    Dots are images, lines with markers the binned medians of each method; the dotted line is
    sqrt(2) sigma (exact shapes, noise reproduced), the dashed line sigma (exact noise-free shapes).

    Parameters
    ----------
    path : Path
        PNG to write.
    original_sum : ndarray, shape (N, C)
        Sum of |original| per image and band (nanomaggies).
    difference_by_method : mapping of str to ndarray
        Method -> sum of |generated - original| (N, C).
    reference_noise : ndarray, shape (C,)
        sigma: median summed noise amplitude per band.
    bands : sequence of str
        Band names.
    title : str
        Figure title.
    bins : int, optional
        Bins of log10(sum |original|).
    """
    figure, axes_list = _band_panels(len(bands))
    for band, axes in enumerate(axes_list):
        log_flux = metrics.log10_positive(original_sum[:, band])
        finite = log_flux[np.isfinite(log_flux)]
        edges = (
            np.linspace(finite.min(), finite.max() + 1e-9, bins + 1) if finite.size else np.array([0.0, 1.0])
        )
        for colour, (method, difference) in zip(_colours(), difference_by_method.items(), strict=False):
            axes.scatter(
                original_sum[:, band], difference[:, band], s=4, alpha=0.35, color=colour, linewidths=0
            )
            binned = metrics.binned_statistics(log_flux, difference[:, band], edges)
            axes.plot(10.0 ** binned["centre"], binned["median"], "o-", color=colour, ms=3, label=method)
        sigma = float(reference_noise[band])
        if sigma > 0:
            axes.axhline(np.sqrt(2.0) * sigma, color="black", ls=":", lw=1.2, label="sqrt(2) sigma")
            axes.axhline(sigma, color="black", ls="--", lw=1.0, label="sigma")
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.xaxis.set_minor_formatter(NullFormatter())
        axes.yaxis.set_minor_formatter(NullFormatter())
        axes.set_xlabel("sum |original| (nmgy)")
        axes.set_title(bands[band], fontsize=9)
    axes_list[0].set_ylabel("sum |generated - original| (nmgy)")
    axes_list[-1].legend(fontsize=7, loc="best")
    figure.suptitle(title, fontsize=9)
    _save(figure, path)


def plot_fourier_maps(
    path: Path,
    original: np.ndarray,
    maps_by_method: Mapping[str, np.ndarray],
    bands: Sequence[str],
    *,
    title: str,
) -> None:
    """The paper's Fig. 6: stacked Fourier amplitude maps of the high-passed images, a row per band.

    Maps are shown in NumPy's FFT order, as in the paper: the corners are the lowest frequencies, the
    centre the highest. Colours are log10 of the amplitude on one scale per row, from the 1st percentile of
    the original's map to the largest value of the row, over the compared frequencies
    (:func:`~galtk.models.evaluation.metrics.high_pass_response_mask`). A panel where at least
    :data:`CLIP_NOTE_FRACTION` of those frequencies fall below the scale (black) or have no amplitude says so.

    Parameters
    ----------
    path : Path
        PNG to write.
    original : ndarray, shape (C, H', W')
        Stacked map of the originals.
    maps_by_method : mapping of str to ndarray
        Method -> its stacked map (C, H', W').
    bands : sequence of str
        Band names.
    title : str
        Figure title.
    """
    columns = [("original", original), *maps_by_method.items()]
    width, height = max(1.6 * len(columns) + 1.2, 6.0), 1.6 * len(bands) + 1.05
    figure = _figure(width, height)
    grid = figure.add_gridspec(len(bands), len(columns) + 1, width_ratios=[*([1.0] * len(columns)), 0.06])
    grid.update(left=0.5 / width, right=0.93, top=1 - 0.95 / height, bottom=0.03, wspace=0.08, hspace=0.12)
    mask = metrics.high_pass_response_mask(original.shape[-2:])
    for band in range(len(bands)):
        logs = [metrics.log10_positive(maps[band]) for _, maps in columns]
        shown = [image[mask & np.isfinite(image)] for image in logs]
        low = float(np.percentile(shown[0], 1.0)) if shown[0].size else 0.0
        high = max([low + 1e-6, *(float(values.max()) for values in shown if values.size)])
        image_artist = None
        for column, ((label, _), log_map) in enumerate(zip(columns, logs, strict=True)):
            axes = figure.add_subplot(grid[band, column])
            image_artist = axes.imshow(log_map, vmin=low, vmax=high, cmap="magma", origin="lower")
            _note_clipping(axes, log_map[mask], low)
            axes.set_xticks([])
            axes.set_yticks([])
            if band == 0:
                axes.set_title(label, fontsize=8)
            if column == 0:
                axes.set_ylabel(bands[band], fontsize=9)
        if image_artist is not None:
            colorbar = figure.colorbar(image_artist, cax=figure.add_subplot(grid[band, -1]))
            colorbar.ax.tick_params(labelsize=6)
    figure.suptitle(
        f"{title}\nlog10 amplitude; corners = lowest, centre = highest frequency\n"
        "scale set on the compared frequencies (the disc); values below it, mostly outside, are black",
        fontsize=9,
    )
    _save(figure, path)


def plot_noise_histograms(
    path: Path,
    sigma_original: np.ndarray,
    sigma_by_method: Mapping[str, np.ndarray],
    bands: Sequence[str],
    *,
    title: str,
    sigma_true: np.ndarray | None = None,
) -> None:
    """Histograms of the per-image noise sigma (the MAD of the pixels off sources), per band.

    Parameters
    ----------
    path : Path
        PNG to write.
    sigma_original : ndarray, shape (N, C)
        Noise sigma of the originals (nanomaggies per pixel).
    sigma_by_method : mapping of str to ndarray
        Method -> noise sigma of its images (N, C).
    bands : sequence of str
        Band names.
    title : str
        Figure title.
    sigma_true : ndarray, shape (N, C), optional
        True sigma of the originals (synthetic data).
    """
    figure, axes_list = _band_panels(len(bands))
    for band, axes in enumerate(axes_list):
        series = [("original", sigma_original[:, band], ORIGINAL_COLOUR, "-")]
        if sigma_true is not None:
            series.append(("true sigma", sigma_true[:, band], "grey", "--"))
        for colour, (method, sigma) in zip(_colours(), sigma_by_method.items(), strict=False):
            series.append((method, sigma[:, band], colour, "-"))
        logs = [metrics.log10_positive(values) for _, values, _, _ in series]
        finite = np.concatenate([values[np.isfinite(values)] for values in logs])
        if finite.size == 0:
            axes.text(0.5, 0.5, "no positive sigma", ha="center", transform=axes.transAxes)
        else:
            edges = np.linspace(finite.min() - 0.05, finite.max() + 0.05, 31)
            for (label, _, colour, style), values in zip(series, logs, strict=True):
                kept = values[np.isfinite(values)]
                if kept.size:
                    axes.hist(kept, bins=edges, histtype="step", color=colour, ls=style, label=label)
        axes.set_xlabel("log10 noise sigma (nmgy / px)")
        axes.set_title(bands[band], fontsize=9)
    axes_list[0].set_ylabel("images")
    axes_list[-1].legend(fontsize=7, loc="best")
    figure.suptitle(title, fontsize=9)
    _save(figure, path)


def plot_power_spectra(
    path: Path,
    frequency: np.ndarray,
    original: np.ndarray,
    power_by_method: Mapping[str, np.ndarray],
    bands: Sequence[str],
    *,
    title: str,
) -> None:
    """Radially averaged power spectra of the high-passed images (top) and their ratio to the originals'.

    Log scales cannot show non-positive power: a panel lists the methods with rings left out for that.

    Parameters
    ----------
    path : Path
        PNG to write.
    frequency : ndarray, shape (K,)
        Ring centres in cycles per pixel.
    original : ndarray, shape (C, K)
        Power spectra of the originals (nmgy**2).
    power_by_method : mapping of str to ndarray
        Method -> power spectra (C, K).
    bands : sequence of str
        Band names.
    title : str
        Figure title.
    """
    width = 3.2 * len(bands) + 1.0
    figure = _figure(width, 5.2)
    grid = figure.add_gridspec(
        2,
        len(bands),
        height_ratios=[2.0, 1.0],
        hspace=0.08,
        wspace=0.3,
        top=0.9,
        bottom=0.1,
        left=1.0 / width,
    )
    for band in range(len(bands)):
        top = figure.add_subplot(grid[0, band])
        bottom = figure.add_subplot(grid[1, band], sharex=top)
        top.plot(frequency, _positive(original[band]), color=ORIGINAL_COLOUR, label="original")
        missing = []
        for colour, (method, power) in zip(_colours(), power_by_method.items(), strict=False):
            top.plot(frequency, _positive(power[band]), color=colour, label=method)
            ratio = np.divide(
                power[band], original[band], out=np.full(frequency.shape, np.nan), where=original[band] > 0
            )
            bottom.plot(frequency, _positive(ratio), color=colour)
            hidden = int(np.sum(~(power[band] > 0)))
            if hidden:
                missing.append(f"{method}: {hidden} of {power[band].size} rings <= 0, not drawn")
        if missing:
            top.text(0.02, 0.02, "\n".join(missing), transform=top.transAxes, fontsize=6, **_NOTE_STYLE)
        bottom.axhline(1.0, color=ORIGINAL_COLOUR, lw=0.8)
        top.set_yscale("log")
        bottom.set_yscale("log")
        top.set_title(bands[band], fontsize=9)
        top.tick_params(labelbottom=False)
        bottom.set_xlabel("frequency (cycles / px)")
        if band == 0:
            top.set_ylabel("power (nmgy^2)")
            bottom.set_ylabel("ratio to original")
    figure.axes[0].legend(fontsize=7, loc="best")
    figure.suptitle(title, fontsize=9)
    _save(figure, path)


def plot_photometry(
    path: Path,
    magnitude: np.ndarray,
    dmag_by_method: Mapping[str, np.ndarray],
    bands: Sequence[str],
    *,
    title: str,
    expected_scatter: np.ndarray | None = None,
    bins: int = 8,
) -> None:
    """Photometry error m(generated) - m(original) against the original magnitude, per band.

    Parameters
    ----------
    path : Path
        PNG to write.
    magnitude : ndarray, shape (N, C)
        AB magnitudes of the originals (NaN where the flux is not positive).
    dmag_by_method : mapping of str to ndarray
        Method -> magnitude differences (N, C).
    bands : sequence of str
        Band names.
    title : str
        Figure title.
    expected_scatter : ndarray, shape (N, C), optional
        Spread of the difference that the noise alone would give; its binned median is drawn as a grey band.
    bins : int, optional
        Magnitude bins of the medians.
    """
    figure, axes_list = _band_panels(len(bands))
    for band, axes in enumerate(axes_list):
        values = magnitude[:, band]
        finite = values[np.isfinite(values)]
        edges = (
            np.linspace(finite.min(), finite.max() + 1e-9, bins + 1) if finite.size else np.array([0.0, 1.0])
        )
        if expected_scatter is not None:
            binned = metrics.binned_statistics(values, expected_scatter[:, band], edges)
            axes.fill_between(
                binned["centre"],
                -binned["median"],
                binned["median"],
                color="grey",
                alpha=0.3,
                label="noise only",
            )
        for colour, (method, dmag) in zip(_colours(), dmag_by_method.items(), strict=False):
            axes.scatter(values, dmag[:, band], s=4, alpha=0.35, color=colour, linewidths=0)
            binned = metrics.binned_statistics(values, dmag[:, band], edges)
            axes.plot(binned["centre"], binned["median"], "o-", color=colour, ms=3, label=method)
        axes.axhline(0.0, color="black", lw=0.8)
        axes.set_xlabel("original magnitude (AB)")
        axes.set_title(bands[band], fontsize=9)
        spread = np.concatenate([d[:, band][np.isfinite(d[:, band])] for d in dmag_by_method.values()])
        if spread.size:
            limit = max(float(np.percentile(np.abs(spread), 98.0)) * 1.2, 0.01)
            axes.set_ylim(-limit, limit)
    axes_list[0].set_ylabel("m(generated) - m(original)")
    axes_list[-1].legend(fontsize=7, loc="best")
    figure.suptitle(title, fontsize=9)
    _save(figure, path)


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure


def _band_panels(count: int) -> tuple[Figure, list[Any]]:
    width = 3.2 * count + 1.0
    figure = _figure(width, 3.4)
    grid = figure.add_gridspec(1, count, top=0.84, bottom=0.16, left=1.0 / width, right=0.98, wspace=0.3)
    return figure, [figure.add_subplot(grid[0, index]) for index in range(count)]


def _save(figure: Figure, path: Path) -> None:
    figure.savefig(path, dpi=DPI)


def _colours() -> Iterator[str]:
    """Matplotlib's tab10 colours, repeated."""
    return itertools.cycle(f"C{index}" for index in range(10))


#: Pixels between the tiles of a mosaic.
_GAP = 2


def _mosaic(tiles: list[list[np.ndarray]]) -> np.ndarray:
    """Tiles (rows of equally sized (H, W) or (H, W, 3) arrays in [0, 1]) on a white background, row 0 on top.

    Each tile is flipped vertically so that pixel row 0 (south) is at the bottom, as with ``origin="lower"``.
    """
    height, width = tiles[0][0].shape[:2]
    columns = max(len(row) for row in tiles)
    shape = (len(tiles) * (height + _GAP) - _GAP, columns * (width + _GAP) - _GAP, *tiles[0][0].shape[2:])
    mosaic = np.ones(shape)
    for row, row_tiles in enumerate(tiles):
        for column, tile in enumerate(row_tiles):
            top, left = row * (height + _GAP), column * (width + _GAP)
            mosaic[top : top + height, left : left + width] = tile[::-1]
    return mosaic


def _show_mosaic(
    path: Path, mosaic: np.ndarray, row_labels: list[str], title: str, cmap: str | None = None
) -> None:
    """One image of the whole mosaic, about 1.1 inch per tile, rows labelled on the left."""
    rows = len(row_labels)
    tile = (mosaic.shape[0] + _GAP) / rows
    inches = 1.1 / tile
    header = 0.35 + 0.15 * (title.count("\n") + 1)
    width, height = mosaic.shape[1] * inches + 1.2, mosaic.shape[0] * inches + header
    figure = _figure(width, height)
    axes = figure.add_axes((1.15 / width, 0.05 / height, 1 - 1.2 / width, 1 - header / height))
    axes.imshow(mosaic, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest", aspect="equal")
    axes.set_xticks([])
    axes.set_yticks([(row + 0.5) * tile - _GAP / 2 for row in range(rows)])
    axes.set_yticklabels(row_labels, fontsize=8)
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    figure.suptitle(title, fontsize=9)
    _save(figure, path)


#: Look of the notes written on panels: dark red box, white text.
_NOTE_STYLE: dict[str, Any] = {
    "color": "white",
    "ha": "left",
    "va": "bottom",
    "bbox": {"facecolor": "darkred", "alpha": 0.8, "edgecolor": "none", "pad": 1.5},
}


def _note_clipping(axes: Any, log_values: np.ndarray, low: float) -> None:
    """Write on a colour-mapped panel which fraction of its values is below the scale or not finite."""
    if log_values.size == 0:
        return
    finite = np.isfinite(log_values)
    below = float(np.mean(finite & (log_values < low)))
    blank = float(np.mean(~finite))
    notes = []
    if below >= CLIP_NOTE_FRACTION:
        notes.append(f"{below:.0%} of the disc below scale (black)")
    if blank >= CLIP_NOTE_FRACTION:
        notes.append(f"{blank:.0%} of the disc zero (blank)")
    if notes:
        axes.text(0.03, 0.03, "\n".join(notes), transform=axes.transAxes, fontsize=6, **_NOTE_STYLE)


def _asinh_tile(image: np.ndarray, reference: np.ndarray, sigma: float) -> np.ndarray:
    """``asinh(image / (3 sigma))`` mapped to [0, 1] between -3 sigma and the reference's maximum."""
    softening = _softening(sigma, reference)
    low = float(np.arcsinh(-1.0))
    high = max(float(np.arcsinh(np.max(reference) / softening)), low + 1e-6)
    return np.clip((np.arcsinh(image / softening) - low) / (high - low), 0.0, 1.0)


def _softening(sigma: float, image: np.ndarray) -> float:
    if sigma > 0:
        return 3.0 * float(sigma)
    peak = float(np.max(np.abs(image)))
    return peak * 1e-2 if peak > 0 else 1.0


def _positive(values: np.ndarray) -> np.ndarray:
    return np.where(values > 0, values, np.nan)
