"""The Noise Emulator of the paper (Fig. 2 (e), (f)), and its measured-noise conditioning."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from galtk.models.networks.filters import HIGH_PASS_KERNEL, SymmetricFilter
from galtk.models.networks.grouped import GroupedLinear
from galtk.models.networks.init import InitScheme, initialize
from galtk.models.networks.layers import LEAKY_SLOPE, scaled_width

Parametrisation = Literal["paper", "measured"]
"""How a Noise Emulator turns its networks into noise (see :class:`NoiseEmulator`)."""
PARAMETRISATIONS: tuple[str, ...] = ("paper", "measured")
#: Largest |log| of the learnt amplitude factor of the ``measured`` parametrisation (a factor e^3 = 20 either
#: way from the measured noise), so that no band can collapse to zero or explode.
MAX_LOG_FACTOR = 3.0


class NoiseEmulator(nn.Module):
    """Noise Emulator NE_X / NE_Y, one per survey: Fig. 2 (e), with the symmetric filter of Fig. 2 (f).

    Each band is independent. A scalar seed z1 ~ N(0, 1) goes through FC64, FC64 (LeakyReLU(0.2)) and
    FC1, then softplus: the band's noise amplitude. A seed map z2 ~ N(0, 1) of (H + 6) x (W + 6) pixels is
    multiplied by the amplitude and convolved, without padding or bias, with the band's 7x7 filter of 8-fold
    symmetry. The noise depends on the seeds only, never on image content.

    ``parameters()`` holds 22,010 values for C=5 at ``width=1``: 5 x 4,353 in the amplitude networks and
    the 245 (5 x 7 x 7) raw filter values that the reference code stores, of which only 10 per band are
    free; counting those gives 21,815 (:attr:`free_parameter_count`).

    Parameters
    ----------
    bands : int, optional
        Number of bands C.
    width : float, optional
        Scale of the hidden sizes of the amplitude networks (``round(64 * width)``, at least 1).
    init : {"glorot", "pytorch"}, optional
        Weight initialisation (see :func:`galtk.models.networks.init.initialize`).
    filter_size : int, optional
        Odd size of the symmetric filter (7 in the paper).

    Notes
    -----
    :meth:`forward` maps seeds z1 (B, C) and z2 (B, C, H + 6, W + 6) to noise (B, C, H, W): SDSS
    (B, 5, 70, 70) -> (B, 5, 64, 64), CFHT (B, 5, 142, 142) -> (B, 5, 136, 136). :meth:`draw_seeds`,
    :meth:`sample` and :meth:`sample_like` draw the seeds from a ``torch.Generator``.

    Two parametrisations share these parameters (``parametrisation``, kept in the state dict):

    - ``"paper"`` (as built): amplitude = softplus(FC1(...)), noise = conv(amplitude * z2, K).
    - ``"measured"`` (set by :meth:`condition`): amplitude = s_b * exp(clamp(FC1(...), +-3)) and the filter
      is normalised, K / ||K||_2, so the amplitude is the emitted pixel sigma. s_b (buffer
      ``measured_sigma``) is the noise sigma measured on the survey's training images. Conditioning starts
      the emulator at that noise, white (K a unit impulse, the last FC layer zero): the adversarial
      training then refines the noise's spectrum and its spread over images from the right level, and no
      band can collapse into the softplus tail or drift far away along the directions the high-pass
      discriminators do not see (docs/methods.md, "Noise Emulator conditioning").
    """

    def __init__(
        self, bands: int = 5, width: float = 1.0, *, init: InitScheme = "glorot", filter_size: int = 7
    ) -> None:
        super().__init__()
        hidden = scaled_width(64, width)
        self.bands = bands
        self.margin = filter_size - 1
        self.amplitude_net = nn.Sequential(
            GroupedLinear(bands, 1, hidden),
            nn.LeakyReLU(LEAKY_SLOPE),
            GroupedLinear(bands, hidden, hidden),
            nn.LeakyReLU(LEAKY_SLOPE),
            GroupedLinear(bands, hidden, 1),
        )
        self.filter = SymmetricFilter(bands, filter_size)
        initialize(self, init)
        self.parametrisation: Parametrisation = "paper"
        self.register_buffer("measured_sigma", torch.ones(bands))

    def set_measured_sigma(self, sigma: Sequence[float] | torch.Tensor) -> None:
        """Record the noise sigma measured on the survey's training images (buffer ``measured_sigma``).

        Used as the amplitude scale of the ``measured`` parametrisation and, in every parametrisation, as
        the noise unit of the noise-weighted content losses and of the generators (``[train]
        generator_units``).

        Parameters
        ----------
        sigma : sequence of float or torch.Tensor
            Positive noise sigma of each band, in the unit of the images (rescaled units in training).

        Raises
        ------
        ValueError
            If ``sigma`` has the wrong length or a value that is not finite and positive.
        """
        values = torch.as_tensor(sigma, dtype=torch.float32).flatten()
        if values.numel() != self.bands:
            raise ValueError(f"need one sigma per band ({self.bands}), got {values.numel()}")
        if not bool(torch.all(torch.isfinite(values) & (values > 0))):
            raise ValueError(f"noise sigmas must be finite and positive, got {values.tolist()}")
        with torch.no_grad():
            self.measured_sigma.copy_(values.to(self.measured_sigma.device))

    def condition(
        self,
        sigma: Sequence[float] | torch.Tensor,
        high_pass_ratio: Sequence[float] | torch.Tensor | None = None,
    ) -> None:
        """Switch to the ``measured`` parametrisation, starting at the measured noise of each band.

        Records ``sigma`` (:meth:`set_measured_sigma`), sets each band's filter to
        :func:`matching_filter` of its ``high_pass_ratio`` (a unit impulse, white noise, by default) and
        zeroes the last amplitude layer, so that the emulator emits Gaussian noise of exactly ``sigma[b]`` per
        pixel in band b, with the measured share of high-frequency power, until it learns.

        Parameters
        ----------
        sigma : sequence of float or torch.Tensor
            Positive per-pixel noise sigma of each band, in the unit of the images (rescaled units in
            training).
        high_pass_ratio : sequence of float or torch.Tensor, optional
            Per band, the high-passed noise sigma over the per-pixel sigma of the training images
            (:func:`galtk.models.evaluation.metrics.high_passed_sigma` over ``noise_sigma``): 1 for white
            noise, less for noise correlated between neighbouring pixels (resampled images).
        """
        self.set_measured_sigma(sigma)
        ratios = [1.0] * self.bands if high_pass_ratio is None else [float(r) for r in high_pass_ratio]
        if len(ratios) != self.bands:
            raise ValueError(f"need one high-pass ratio per band ({self.bands}), got {len(ratios)}")
        with torch.no_grad():
            kernel = self.filter.kernel
            for band, ratio in enumerate(ratios):
                kernel[band] = matching_filter(ratio, kernel.shape[-1]).to(kernel)
            last = self.amplitude_net[-1]
            last.weight.zero_()
            last.bias.zero_()
        self.parametrisation = "measured"

    def get_extra_state(self) -> dict[str, Any]:
        """The parametrisation, saved in the state dict so that a loaded emulator emits the same noise."""
        return {"parametrisation": self.parametrisation}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """Restore the parametrisation saved by :meth:`get_extra_state`."""
        parametrisation = state.get("parametrisation") if isinstance(state, dict) else None
        if parametrisation not in PARAMETRISATIONS:
            raise ValueError(f"unknown Noise Emulator parametrisation {parametrisation!r}")
        self.parametrisation = parametrisation

    @property
    def stored_parameter_count(self) -> int:
        """Values in ``parameters()`` (22,010 for C=5 at ``width=1``)."""
        return sum(p.numel() for p in self.parameters())

    @property
    def free_parameter_count(self) -> int:
        """Independent values: the filters counted by their free weights (21,815 for C=5 at ``width=1``)."""
        return self.stored_parameter_count - self.filter.kernel.numel() + self.filter.free_parameter_count

    def amplitudes(self, z1: torch.Tensor) -> torch.Tensor:
        """Noise amplitude of each band: (B, C) from seeds z1 (B, C).

        ``softplus(FC1(FC64(FC64(z1))))`` (``paper``), or ``measured_sigma * exp(clamp(FC1(...), +-3))``
        (``measured``).
        """
        out = self.amplitude_net(z1.unsqueeze(-1)).squeeze(-1)
        if self.parametrisation == "measured":
            factor = torch.exp(out.clamp(-MAX_LOG_FACTOR, MAX_LOG_FACTOR))
            return self.measured_sigma.to(out.dtype) * factor
        return F.softplus(out)

    def kernels(self) -> torch.Tensor:
        """The filters applied, (C, k, k): symmetric; of unit L2 norm in the ``measured`` parametrisation."""
        kernel = self.filter.symmetric_kernel()
        if self.parametrisation == "measured":
            norm = kernel.flatten(1).norm(dim=1).clamp_min(torch.finfo(kernel.dtype).tiny)
            kernel = kernel / norm[:, None, None]
        return kernel

    def forward(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """Noise (B, C, H, W) from amplitude seeds z1 (B, C) and seed maps z2 (B, C, H + 6, W + 6)."""
        seeds = z2 * self.amplitudes(z1)[:, :, None, None]
        weight = self.kernels().unsqueeze(1).to(seeds.dtype)
        return F.conv2d(seeds, weight, groups=self.bands)

    def draw_seeds(
        self,
        batch: int,
        image_size: tuple[int, int],
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw the Gaussian seeds z1 (batch, C) and z2 (batch, C, H + 6, W + 6) for images of ``image_size``.

        Parameters
        ----------
        batch : int
            Number of images.
        image_size : tuple of int
            (H, W) of the noise to make.
        generator : torch.Generator, optional
            Source of randomness (on ``device``); the global one if None.
        device : torch.device or str, optional
            Device of the seeds; that of the module's parameters if None.
        dtype : torch.dtype, optional
            Floating dtype of the seeds; float32 if None.

        Returns
        -------
        tuple of torch.Tensor
            (z1, z2).
        """
        device = self.filter.kernel.device if device is None else device
        dtype = torch.float32 if dtype is None else dtype
        height, width = image_size
        z1 = torch.randn(batch, self.bands, generator=generator, device=device, dtype=dtype)
        z2 = torch.randn(
            batch,
            self.bands,
            height + self.margin,
            width + self.margin,
            generator=generator,
            device=device,
            dtype=dtype,
        )
        return z1, z2

    def sample(
        self,
        batch: int,
        image_size: tuple[int, int],
        *,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> torch.Tensor:
        """Draw seeds (see :meth:`draw_seeds`) and return noise (batch, C, H, W)."""
        z1, z2 = self.draw_seeds(batch, image_size, generator=generator, device=device, dtype=dtype)
        return self(z1, z2)

    def sample_like(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Noise for a batch shaped like ``images`` (B, C, H, W): only their shape, device and dtype count."""
        batch, _, height, width = images.shape
        size = (height, width)
        return self.sample(batch, size, generator=generator, device=images.device, dtype=images.dtype)


#: Widest Gaussian that :func:`matching_filter` uses (pixels).
MAX_FILTER_WIDTH = 3.0


def high_pass_gain(kernel: torch.Tensor) -> float:
    """High-passed sigma over pixel sigma of white noise convolved with ``kernel`` (1 for a unit impulse).

    Parameters
    ----------
    kernel : torch.Tensor, shape (k, k)

    Returns
    -------
    float
        ``||H * K||_2 / (||H||_2 ||K||_2)`` with H the discriminators' high-pass filter (Fig. 2 (g)).
    """
    high_pass = torch.tensor(HIGH_PASS_KERNEL, dtype=torch.float64)
    kernel = kernel.to(torch.float64)
    # The full convolution, (k + 4) x (k + 4).
    combined = F.conv2d(F.pad(kernel[None, None], (4, 4, 4, 4)), high_pass.flip(0, 1)[None, None])
    return float(combined.norm() / (high_pass.norm() * kernel.norm()))


def matching_filter(high_pass_ratio: float, size: int = 7) -> torch.Tensor:
    """A symmetric filter of unit L2 norm whose noise has the given high-pass ratio.

    A unit impulse (white noise) for ratios of 1 or more; below that a centred Gaussian of the width, found by
    bisection, at which :func:`high_pass_gain` equals the ratio (at most ``MAX_FILTER_WIDTH`` px). Resampled
    survey cutouts have correlated noise: Lanczos-3 resampling of SDSS frames leaves 0.41 of the per-pixel
    sigma in the high-passed image.

    Parameters
    ----------
    high_pass_ratio : float
        Wanted high-passed sigma over pixel sigma of the filtered white noise.
    size : int
        Odd filter size.

    Returns
    -------
    torch.Tensor, shape (size, size), float32
    """
    if not high_pass_ratio < 1.0:
        kernel = torch.zeros(size, size)
        kernel[size // 2, size // 2] = 1.0
        return kernel
    low, high = 0.0, MAX_FILTER_WIDTH
    for _ in range(50):
        width = (low + high) / 2.0
        if high_pass_gain(_gaussian(width, size)) > high_pass_ratio:
            low = width
        else:
            high = width
    return _gaussian((low + high) / 2.0, size).float()


def _gaussian(width: float, size: int) -> torch.Tensor:
    """Centred Gaussian of standard deviation ``width`` px on a ``size`` x ``size`` grid, unit L2 norm."""
    offsets = torch.arange(size, dtype=torch.float64) - size // 2
    squared = offsets[:, None] ** 2 + offsets[None, :] ** 2
    kernel = torch.exp(-squared / (2.0 * max(width, 1e-6) ** 2))
    return kernel / kernel.norm()
