"""The two special filters of the paper: the fixed high-pass filter and the 8-fold symmetric filter.

:class:`HighPassFilter` is Fig. 2 (g), applied band by band at the input of each discriminator (and by the
evaluation of SPEC section 7). :class:`SymmetricFilter` is Fig. 2 (f), the learnt 7x7 zero-bias filter of the
Noise Emulator, invariant under the 8 symmetries of the square (rotations by 90 degrees and mirrors).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

HIGH_PASS_KERNEL: tuple[tuple[float, ...], ...] = (
    (-1.0, 3.0, -4.0, 3.0, -1.0),
    (3.0, -8.0, 10.0, -8.0, 3.0),
    (-4.0, 10.0, -12.0, 10.0, -4.0),
    (3.0, -8.0, 10.0, -8.0, 3.0),
    (-1.0, 3.0, -4.0, 3.0, -1.0),
)
"""The 5x5 high-pass filter of Fig. 2 (g) (SPEC section 4)."""


class HighPassFilter(nn.Module):
    """Fixed 5x5 high-pass filter (Fig. 2 (g)) applied to every band separately, without padding.

    Every row of the kernel sums to zero, so the filter removes constants and any image that varies
    along one axis only (linear ramps included).

    Notes
    -----
    Input (B, C, H, W); output (B, C, H - 4, W - 4): 136 -> 132, 64 -> 60. No parameters (the kernel is
    a non-persistent buffer).
    """

    kernel: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("kernel", torch.tensor(HIGH_PASS_KERNEL), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Filter each band of ``x``."""
        bands = x.shape[1]
        weight = self.kernel.to(x.dtype).expand(bands, 1, *self.kernel.shape)
        return F.conv2d(x, weight, groups=bands)


def orbit_indices(size: int) -> torch.Tensor:
    """Index of the symmetry orbit of each pixel of a ``size`` x ``size`` filter (Fig. 2 (f)).

    Pixels that the 8 symmetries of the square map onto one another share an index. With (a, b) the
    smaller and larger distance of a pixel to the centre row and column, the index is
    ``b * (b + 1) / 2 + a``, which numbers the orbits as the labels w0...w9 of Fig. 2 (f) for ``size=7``.

    Parameters
    ----------
    size : int
        Odd filter size.

    Returns
    -------
    torch.Tensor
        int64 (size, size), values ``0 .. (m + 1)(m + 2)/2 - 1`` with ``m = size // 2``.
    """
    return torch.tensor(_orbit_table(size), dtype=torch.int64)


def _orbit_table(size: int) -> list[list[int]]:
    if size % 2 != 1:
        raise ValueError(f"size must be odd, got {size}")
    offsets = [abs(i - size // 2) for i in range(size)]
    return [[max(a, b) * (max(a, b) + 1) // 2 + min(a, b) for b in offsets] for a in offsets]


def _orbit_average_matrix(size: int) -> list[list[float]]:
    """(size * size, orbits) matrix whose product with a flattened filter gives its orbit means."""
    index = [i for row in _orbit_table(size) for i in row]
    members = [index.count(orbit) for orbit in range(orbit_count(size))]
    return [[1.0 / members[orbit] if i == orbit else 0.0 for orbit in range(len(members))] for i in index]


def orbit_count(size: int) -> int:
    """Number of free weights of a ``size`` x ``size`` filter with 8-fold symmetry (10 for 7x7)."""
    m = size // 2
    return (m + 1) * (m + 2) // 2


class SymmetricFilter(nn.Module):
    """Learnt zero-bias filter with 8-fold symmetry, one per band (Fig. 2 (f)), applied without padding.

    The module stores ``size * size`` raw values per band (``kernel``, 245 for 5 bands at 7x7), as the
    reference code does, and uses their average over the symmetry group: each pixel takes the mean of
    the raw values of its orbit. Only ``orbit_count(size)`` values per band (10 at 7x7) are free; see
    :meth:`free_weights` and :func:`expand_free_weights`.

    Parameters
    ----------
    bands : int
        Number of bands, each with its own filter.
    size : int, optional
        Odd filter size (7 in the paper).

    Notes
    -----
    Input (B, bands, H + size - 1, W + size - 1); output (B, bands, H, W).
    """

    kernel: nn.Parameter
    orbit_index: torch.Tensor
    orbit_average: torch.Tensor

    def __init__(self, bands: int, size: int = 7) -> None:
        super().__init__()
        self.bands = bands
        self.size = size
        self.kernel = nn.Parameter(torch.empty(bands, size, size))
        self.register_buffer("orbit_index", orbit_indices(size).flatten(), persistent=False)
        self.register_buffer("orbit_average", torch.tensor(_orbit_average_matrix(size)), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default convolution initialisation (uniform in +-1/sqrt(fan_in))."""
        bound = 1.0 / self.size
        nn.init.uniform_(self.kernel, -bound, bound)

    @property
    def free_parameter_count(self) -> int:
        """Free weights of all bands: ``bands * orbit_count(size)`` (50 for 5 bands at 7x7)."""
        return self.bands * orbit_count(self.size)

    def free_weights(self) -> torch.Tensor:
        """The free weights: (bands, orbit_count(size)), the value of each orbit (w0...w9 of Fig. 2 (f))."""
        return self.kernel.flatten(1) @ self.orbit_average.to(self.kernel.dtype)

    def symmetric_kernel(self) -> torch.Tensor:
        """The filters actually applied: (bands, size, size), exactly invariant under the 8 symmetries."""
        return self.free_weights()[:, self.orbit_index].unflatten(1, (self.size, self.size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Convolve each band of ``x`` with its symmetric filter (valid, no bias)."""
        weight = self.symmetric_kernel().unsqueeze(1).to(x.dtype)
        return F.conv2d(x, weight, groups=self.bands)

    def extra_repr(self) -> str:
        """Show the sizes in ``print(module)``."""
        return f"bands={self.bands}, size={self.size}"


def expand_free_weights(free: torch.Tensor, size: int = 7) -> torch.Tensor:
    """Build symmetric filters from their free weights.

    Parameters
    ----------
    free : torch.Tensor
        (..., orbit_count(size)): the value of each orbit (w0...w9 of Fig. 2 (f) for ``size=7``).
    size : int, optional
        Odd filter size.

    Returns
    -------
    torch.Tensor
        (..., size, size).
    """
    index = orbit_indices(size).to(free.device)
    return free[..., index]
