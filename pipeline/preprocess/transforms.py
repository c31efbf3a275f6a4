"""The flux transforms of SPEC section 3 and their exact inverses.

In order, for network inputs ("rescaled" images):

1. CFHT pixels times 1e-3: 1 ADU at AB zero point 30 is exactly 1e-3 nanomaggies, so this is the unit
   conversion the paper calls "x 1/1000" (:data:`galtk.pipeline.surveys.ZP30_ADU_IN_NANOMAGGIES`). SDSS
   pixels are already in nanomaggies and stay unchanged.
2. Signed square root, both surveys::

       I = sqrt(I0 + 1) - 1     if I0 >= 0
       I = 1 - sqrt(1 - I0)     if I0 <  0

   with the inverse ``I0 = (I + 1)**2 - 1`` if ``I >= 0`` and ``I0 = 1 - (1 - I)**2`` if ``I < 0``.

Both branches are evaluated in a cancellation-free form: ``I = I0 / (sqrt(|I0| + 1) + 1)`` and
``I0 = I * (|I| + 2)`` are algebraically identical to the formulas above (multiply by the conjugate) and need
no branch, so they are odd functions, exact at 0, accurate to a few ulps for tiny fluxes (where
``sqrt(I0 + 1) - 1`` would round to 0), and work unchanged on NumPy arrays and torch tensors. NumPy inputs
are computed in float64 and returned in their own floating dtype, so ``inverse_rescale(rescale(x))`` equals
float32 ``x`` within one ulp; torch tensors are computed in their own dtype (a few ulps). NaN stays NaN.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np

from galtk.pipeline.surveys import SurveySpec, get_survey

ArrayT = TypeVar("ArrayT")

#: Unit of the pixels of each supported raw unit, in nanomaggies.
NANOMAGGIES_PER_UNIT: dict[str, float] = {
    unit: spec.nanomaggies_per_unit
    for unit, spec in ((get_survey(name).unit, get_survey(name)) for name in ("sdss", "cfht"))
}
#: ``units`` attribute of rescaled images.
RESCALED_UNITS = "signed_sqrt(nanomaggy)"
SIGNED_SQRT_FORMULA = "I = sqrt(I0 + 1) - 1 if I0 >= 0; I = 1 - sqrt(1 - I0) if I0 < 0 (I0 in nanomaggies)"
SIGNED_SQRT_INVERSE_FORMULA = "I0 = (I + 1)**2 - 1 if I >= 0; I0 = 1 - (1 - I)**2 if I < 0"


def signed_sqrt(values: ArrayT) -> ArrayT:
    """Signed square root of SPEC section 3, step 2 (``sqrt(I0 + 1) - 1``, odd-symmetric).

    Parameters
    ----------
    values : ndarray, torch.Tensor or float
        Fluxes in nanomaggies.

    Returns
    -------
    ndarray, torch.Tensor or float
        Same type, shape and floating dtype as the input.
    """
    return _apply(values, 1.0, _forward)


def inverse_signed_sqrt(values: ArrayT) -> ArrayT:
    """Exact inverse of :func:`signed_sqrt` (``(I + 1)**2 - 1``, odd-symmetric).

    Parameters
    ----------
    values : ndarray, torch.Tensor or float
        Rescaled values.

    Returns
    -------
    ndarray, torch.Tensor or float
        Fluxes in nanomaggies, same type, shape and floating dtype as the input.
    """
    return _apply(values, 1.0, _inverse)


def nanomaggies_per_unit(unit_or_survey: str | SurveySpec) -> float:
    """Nanomaggies per pixel unit of a survey (``"sdss"``, ``"cfht"``) or a unit (``"adu_zp30"``, ...).

    Raises
    ------
    ValueError
        If the unit is not one galtk can convert.
    """
    if isinstance(unit_or_survey, SurveySpec):
        return unit_or_survey.nanomaggies_per_unit
    if unit_or_survey in NANOMAGGIES_PER_UNIT:
        return NANOMAGGIES_PER_UNIT[unit_or_survey]
    try:
        return get_survey(unit_or_survey).nanomaggies_per_unit
    except KeyError:
        known = ", ".join([*NANOMAGGIES_PER_UNIT, "sdss", "cfht"])
        raise ValueError(f"cannot convert {unit_or_survey!r} to nanomaggies; known: {known}") from None


def rescale(images: ArrayT, unit_or_survey: str | SurveySpec) -> ArrayT:
    """Raw survey pixels to network inputs: unit conversion to nanomaggies, then :func:`signed_sqrt`.

    Parameters
    ----------
    images : ndarray, torch.Tensor or float
        Pixels in the survey unit (nanomaggies for SDSS, ZP30 ADU for CFHT).
    unit_or_survey : str or SurveySpec
        The pixel unit (``"nanomaggy"``, ``"adu_zp30"``) or the survey (``"sdss"``, ``"cfht"``).

    Returns
    -------
    ndarray, torch.Tensor or float
        Rescaled images (same type, shape and floating dtype).
    """
    return _apply(images, nanomaggies_per_unit(unit_or_survey), _forward)


def inverse_rescale(rescaled: ArrayT, unit_or_survey: str | SurveySpec) -> ArrayT:
    """Exact inverse of :func:`rescale`: network outputs back to the survey's physical pixel unit.

    Parameters
    ----------
    rescaled : ndarray, torch.Tensor or float
        Rescaled images (also regridded CFHT images, whose unit is the CFHT one).
    unit_or_survey : str or SurveySpec
        The unit (or survey) to return to.

    Returns
    -------
    ndarray, torch.Tensor or float
        Pixels in that unit (same type, shape and floating dtype).
    """
    return _apply(rescaled, 1.0 / nanomaggies_per_unit(unit_or_survey), _inverse)


def rescale_record(unit: str) -> list[dict[str, Any]]:
    """The steps of :func:`rescale` for pixels in ``unit`` (as recorded in a store's ``transforms``)."""
    factor = nanomaggies_per_unit(unit)
    steps: list[dict[str, Any]] = []
    if factor != 1.0:
        steps.append(
            {
                "name": "scale",
                "factor": factor,
                "from_units": unit,
                "to_units": "nanomaggy",
                "note": "AB zero point 30 ADU to nanomaggies (the paper's x 1/1000)",
            }
        )
    steps.append(
        {"name": "signed_sqrt", "formula": SIGNED_SQRT_FORMULA, "inverse": SIGNED_SQRT_INVERSE_FORMULA}
    )
    return steps


def _forward(x: Any, factor: float) -> Any:
    if factor != 1.0:
        x = x * factor
    return x / ((abs(x) + 1) ** 0.5 + 1)


def _inverse(y: Any, factor: float) -> Any:
    x = y * (abs(y) + 2)
    return x * factor if factor != 1.0 else x


def _forward_inplace(work: np.ndarray, scratch: np.ndarray, factor: float) -> None:
    """:func:`_forward` on float64 ``work`` in place, bit for bit (the same operations in the same order)."""
    if factor != 1.0:
        work *= factor
    np.abs(work, out=scratch)
    scratch += 1
    np.sqrt(scratch, out=scratch)
    scratch += 1
    work /= scratch


def _inverse_inplace(work: np.ndarray, scratch: np.ndarray, factor: float) -> None:
    """:func:`_inverse` on float64 ``work`` in place, bit for bit."""
    np.abs(work, out=scratch)
    scratch += 2
    work *= scratch
    if factor != 1.0:
        work *= factor


_INPLACE = {_forward: _forward_inplace, _inverse: _inverse_inplace}
#: Elements per float64 work block of NumPy inputs (two blocks stay in the CPU cache).
_BLOCK = 1 << 16


def _apply(values: Any, factor: float, kernel: Any) -> Any:
    if type(values).__module__.startswith("torch"):
        return kernel(values, factor)
    array = np.asarray(values)
    dtype = array.dtype if np.issubdtype(array.dtype, np.floating) else np.dtype(np.float64)
    result = np.empty(array.shape, dtype=dtype)
    source, target = array.reshape(-1), result.reshape(-1)
    work = np.empty(min(_BLOCK, source.size), dtype=np.float64)
    scratch = np.empty_like(work)
    inplace = _INPLACE[kernel]
    for start in range(0, source.size, _BLOCK):
        stop = min(start + _BLOCK, source.size)
        chunk, spare = work[: stop - start], scratch[: stop - start]
        chunk[...] = source[start:stop]
        inplace(chunk, spare, factor)
        target[start:stop] = chunk
    if np.ndim(values) == 0 and not isinstance(values, np.ndarray):
        return result[()]
    return result
