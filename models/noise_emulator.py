"""The Noise Emulator of the paper (Fig. 2 (e), (f))."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from galtk.models.filters import SymmetricFilter
from galtk.models.grouped import GroupedLinear
from galtk.models.init import InitScheme, initialize
from galtk.models.layers import LEAKY_SLOPE, scaled_width


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
        Weight initialisation (see :func:`galtk.models.init.initialize`).
    filter_size : int, optional
        Odd size of the symmetric filter (7 in the paper).

    Notes
    -----
    :meth:`forward` maps seeds z1 (B, C) and z2 (B, C, H + 6, W + 6) to noise (B, C, H, W): SDSS
    (B, 5, 70, 70) -> (B, 5, 64, 64), CFHT (B, 5, 142, 142) -> (B, 5, 136, 136). :meth:`draw_seeds`,
    :meth:`sample` and :meth:`sample_like` draw the seeds from a ``torch.Generator``.
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

    @property
    def stored_parameter_count(self) -> int:
        """Values in ``parameters()`` (22,010 for C=5 at ``width=1``)."""
        return sum(p.numel() for p in self.parameters())

    @property
    def free_parameter_count(self) -> int:
        """Independent values: the filters counted by their free weights (21,815 for C=5 at ``width=1``)."""
        return self.stored_parameter_count - self.filter.kernel.numel() + self.filter.free_parameter_count

    def amplitudes(self, z1: torch.Tensor) -> torch.Tensor:
        """Noise amplitude of each band, softplus(FC1(FC64(FC64(z1)))): (B, C) from seeds z1 (B, C)."""
        return F.softplus(self.amplitude_net(z1.unsqueeze(-1))).squeeze(-1)

    def forward(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """Noise (B, C, H, W) from amplitude seeds z1 (B, C) and seed maps z2 (B, C, H + 6, W + 6)."""
        return self.filter(z2 * self.amplitudes(z1)[:, :, None, None])

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
