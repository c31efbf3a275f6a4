"""Chunked measurements of image sets: summed absolute differences in nanomaggies."""

from __future__ import annotations

import numpy as np
import pytest

from galtk.errors import EvaluationError
from galtk.models.evaluation.measure import measure_difference


def _images(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 3, (7, 2, 5, 4)).astype(np.float32)


def test_summed_absolute_difference_per_image_and_band_in_nanomaggies() -> None:
    images, reference = _images(0), _images(1)
    keep = images.copy(), reference.copy()
    result = measure_difference(images, reference, to_nanomaggies=1e-3, chunk_size=3)
    expected = np.abs(images.astype(np.float64) * 1e-3 - reference.astype(np.float64) * 1e-3).sum(axis=(2, 3))
    np.testing.assert_allclose(result, expected, rtol=1e-12)
    np.testing.assert_array_equal(images, keep[0])
    np.testing.assert_array_equal(reference, keep[1])


def test_without_a_reference_the_images_themselves_are_summed_and_left_unchanged() -> None:
    images = _images(2).astype(np.float64)
    keep = images.copy()
    result = measure_difference(images, None, to_nanomaggies=1.0, chunk_size=4)
    np.testing.assert_allclose(result, np.abs(keep).sum(axis=(2, 3)), rtol=1e-12)
    np.testing.assert_array_equal(images, keep)


def test_a_non_finite_image_is_named_in_the_error() -> None:
    images, reference = _images(0), _images(1)
    reference[5, 1, 2, 2] = np.nan
    with pytest.raises(EvaluationError, match="originals of test set: image 5 holds NaN"):
        measure_difference(images, reference, to_nanomaggies=1.0, label="test set", chunk_size=2)
