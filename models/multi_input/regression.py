"""A linear reference for multi-input translation: the target's aperture fluxes regressed on the inputs'.

What the input surveys tell about each target band without any network. Every input channel is measured
in the same aperture as the target (:func:`~galtk.models.multi_input.photometry.aperture_fluxes`), on the
images a ``pix2pix-multi`` generator reads: regridded onto the target's grid, in nanomaggies per target
pixel (or in units of their own noise for a survey without zero point). On the training pairs, each target
band's observed aperture flux is fitted by ordinary least squares as a constant plus a linear combination
of the input channels' fluxes; the fit then predicts the test pairs' fluxes.

The generator sees the same fluxes and the galaxies' shapes besides, so it should do at least as well; where
it does worse, it has not learnt what its inputs tell. The regression also measures, without the noise of
training a network, whether an added survey carries information on a band (GALEX's NUV on u).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from galtk.errors import EvaluationError
from galtk.models.multi_input.photometry import aperture_fluxes
from galtk.models.training.batches.survey_pairs import object_offsets, survey_arrays, survey_pixels
from galtk.pipeline.preprocess.transforms import inverse_signed_sqrt
from galtk.pipeline.stores.paired import PairedStore
from galtk.pipeline.surveys import SurveySpec


def input_aperture_fluxes(images: np.ndarray, target: SurveySpec, offsets: np.ndarray | None) -> np.ndarray:
    """Each input channel's flux in the target's aperture.

    Parameters
    ----------
    images : ndarray, shape (N, C_in, H, W)
        The inputs on the target grid, rescaled, as
        :func:`~galtk.models.training.batches.survey_pairs.survey_arrays` gives them.
    target : SurveySpec
        The target survey (its pixel scale).
    offsets : ndarray, shape (N, 2), optional
        Where each object lies from the centre pixel of the target grid.

    Returns
    -------
    ndarray, shape (N, C_in)
    """
    return aperture_fluxes(inverse_signed_sqrt(images), target.pixel_scale, offsets)


def target_aperture_fluxes(store: PairedStore, target: SurveySpec, rows: np.ndarray) -> np.ndarray:
    """The observed target cutouts' aperture fluxes of ``rows`` (N, C), nanomaggies."""
    member = store.member(target.name)
    observed = survey_pixels(member.read(rows).images, target)
    return aperture_fluxes(observed, target.pixel_scale, object_offsets(member, rows))


def fit_flux_regression(inputs: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares coefficients of ``target ~ constant + inputs @ weights``, per target band.

    Parameters
    ----------
    inputs : ndarray, shape (N, C_in)
        Input aperture fluxes of the training pairs.
    target : ndarray, shape (N, C)
        Their target aperture fluxes.

    Returns
    -------
    ndarray, shape (C_in + 1, C)
        The constant, then one weight per input channel.

    Raises
    ------
    EvaluationError
        If there are fewer pairs than coefficients, or a flux is not finite.
    """
    inputs, target = np.asarray(inputs, dtype=np.float64), np.asarray(target, dtype=np.float64)
    if len(inputs) <= inputs.shape[1] + 1:
        raise EvaluationError(
            f"{len(inputs)} training pairs cannot fit a regression on {inputs.shape[1]} input bands"
        )
    if not (np.isfinite(inputs).all() and np.isfinite(target).all()):
        raise EvaluationError("an aperture flux of the training pairs is not finite")
    coefficients, *_ = np.linalg.lstsq(_design(inputs), target, rcond=None)
    return coefficients


def predict_fluxes(coefficients: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """Target aperture fluxes (N, C) predicted from input fluxes (N, C_in) by :func:`fit_flux_regression`."""
    return _design(np.asarray(inputs, dtype=np.float64)) @ coefficients


def regressed_fluxes(
    store: PairedStore,
    inputs: Sequence[SurveySpec],
    target: SurveySpec,
    train_rows: np.ndarray,
    train_flux: np.ndarray,
    test_input_flux: np.ndarray,
    noise_scales: Mapping[str, Sequence[float]] | None = None,
) -> np.ndarray:
    """Target aperture fluxes predicted from the inputs' by a fit on the training pairs.

    Parameters
    ----------
    store : PairedStore
        Written by ``galtk crossmatch --surveys``.
    inputs : sequence of SurveySpec
        The input surveys, in channel order.
    target : SurveySpec
        The target survey.
    train_rows : ndarray of int
        The training pairs' rows.
    train_flux : ndarray, shape (len(train_rows), C)
        Their target aperture fluxes (:func:`target_aperture_fluxes`).
    test_input_flux : ndarray, shape (N, C_in)
        The input aperture fluxes of the objects to predict (:func:`input_aperture_fluxes`).
    noise_scales : mapping, optional
        The noise scales the test inputs were read with (uncalibrated inputs; see
        :func:`~galtk.models.training.batches.survey_pairs.survey_arrays`).

    Returns
    -------
    ndarray, shape (N, C)
        Nanomaggies.
    """
    images, _ = survey_arrays(store, inputs, target, train_rows, noise_scales)
    offsets = object_offsets(store.member(target.name), train_rows)
    coefficients = fit_flux_regression(input_aperture_fluxes(images, target, offsets), train_flux)
    return predict_fluxes(coefficients, test_input_flux)


def _design(inputs: np.ndarray) -> np.ndarray:
    return np.concatenate([np.ones((len(inputs), 1)), inputs], axis=1)
