"""Aperture photometry of multi-input translations and its errors, against known answers."""

from __future__ import annotations

import numpy as np
import pytest

from galtk.models.multi_input.photometry import (
    APERTURE_ARCSEC,
    aperture_fluxes,
    aperture_snr,
    band_errors,
    colour_errors,
    error_text,
)


def test_aperture_flux_of_a_gaussian_matches_its_enclosed_fraction() -> None:
    scale, sigma_arcsec, offset = 0.396, 1.0, (1.3, -0.6)
    yy, xx = np.mgrid[:64, :64] - 31.5
    sigma = sigma_arcsec / scale
    image = np.exp(-((xx - offset[0]) ** 2 + (yy - offset[1]) ** 2) / (2 * sigma**2))
    image *= 7.0 / image.sum()
    flux = aperture_fluxes(image[None, None], scale, np.array([offset]))
    enclosed = 1.0 - np.exp(-(APERTURE_ARCSEC**2) / (2 * sigma_arcsec**2))  # a 2-D Gaussian's
    assert flux[0, 0] == pytest.approx(7.0 * enclosed, rel=0.005)


def test_magnitude_and_colour_errors_have_known_answers() -> None:
    reference = np.array([[10.0, 20.0, 40.0], [5.0, 5.0, 5.0], [1.0, 2.0, 3.0]])
    measured = reference * 10 ** (-0.4 * np.array([0.1, 0.1, -0.2]))  # 0.1 mag fainter, 0.2 brighter
    measured[2, 0] = -1.0  # a non-positive flux is counted, not measured
    errors = band_errors(measured, reference)
    assert [e.bias for e in errors] == pytest.approx([0.1, 0.1, -0.2])
    assert [e.scatter for e in errors] == pytest.approx([0.0, 0.0, 0.0], abs=1e-12)
    assert [e.not_positive for e in errors] == [1, 0, 0]
    colours = colour_errors(measured, reference)
    assert [c.bias for c in colours] == pytest.approx([0.0, 0.3])


def test_band_errors_keep_the_selected_objects_of_each_band() -> None:
    reference = np.full((4, 2), 10.0)
    measured = reference * 10 ** (-0.4 * np.array([[0.1, 0.3], [0.1, 0.3], [0.5, 0.2], [-1.0, 0.2]]))
    measured[3, 0] = 0.0
    selected = np.array([[True, True], [True, True], [False, False], [True, False]])
    errors = band_errors(measured, reference, selected)
    assert [e.bias for e in errors] == pytest.approx([0.1, 0.3])
    assert [e.objects for e in errors] == [2, 2]
    assert [e.not_positive for e in errors] == [1, 0]  # the unselected non-positive flux is not counted


def test_aperture_snr_divides_the_truth_by_the_noise_of_observed_minus_truth() -> None:
    rng = np.random.default_rng(3)
    truth = np.stack([np.linspace(1, 100, 4000), np.linspace(1, 10, 4000)], axis=1)
    observed = truth + rng.normal(0, [2.0, 0.5], truth.shape)
    snr = aperture_snr(observed, truth)
    assert snr[:, 0] == pytest.approx(truth[:, 0] / 2.0, rel=0.05)
    assert snr[:, 1] == pytest.approx(truth[:, 1] / 0.5, rel=0.05)


def test_a_band_with_one_positive_flux_has_no_scatter_and_cells_say_so() -> None:
    measured = np.array([[2.0, 1.0], [-1.0, 1.2], [-0.5, 0.9]])
    reference = np.ones((3, 2))
    first, second = band_errors(measured, reference)
    assert (first.objects, first.not_positive) == (1, 2) and np.isnan(first.scatter)
    assert error_text(first.as_dict()) == "n/a"
    mostly = {"bias_mag": 0.1, "scatter_mag": 0.2, "objects": 2, "not_positive": 5}
    assert error_text(mostly) == "+0.100 / 0.200*" and error_text(mostly, bias=False) == "0.200*"
    assert error_text(second.as_dict(), bias=False) == f"{second.scatter:.3f}"
