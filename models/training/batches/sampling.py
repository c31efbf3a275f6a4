"""Which rows and which rotation/flip every training iteration uses (SPEC section 6), as pure functions.

A batch depends only on ``(seed, rank, iteration)`` (and the fixed sizes of the run), never on what was drawn
before, so a run resumed at iteration k draws exactly the batches of an uninterrupted run without saving any
sampler state.

Rows: every training set is read in epochs. Epoch ``e`` is a permutation of the set's rows drawn from
``numpy.random.default_rng([seed, PERMUTATION_STREAM, set_index, e])``, shared by all ranks; iteration ``i``
of rank ``r`` takes the ``batch_size`` consecutive positions starting at ``(i * world_size + r) * batch_size``
of the endless sequence of epochs. Within an epoch every row is therefore used exactly once over all ranks,
and different ranks never get the same rows of an epoch (sampling without replacement).

Augmentation: each sample gets one of the 8 symmetries of the square, ``code = 2 * k + mirrored`` drawn
uniformly from ``numpy.random.default_rng([seed, AUGMENT_STREAM, rank, iteration])``: an optional left-right
mirror, then ``k`` quarter turns (``numpy.rot90``/``torch.rot90`` over the (y, x) axes). Both images of a pair
share their code. Both turn about the cutout centre, where the object sits in both surveys, so the SDSS and
CFHT images of a pair stay the same piece of sky. Within each set of a batch, samples are ordered by their
code, so each symmetry is applied to one contiguous slice of the batch.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

#: Tags of the two random streams, so that permutations and augmentations never share a seed sequence.
PERMUTATION_STREAM = 0x7065726D
AUGMENT_STREAM = 0x61756720
#: Number of symmetries of the square (4 rotations, each with or without a mirror).
SYMMETRIES = 8
_CACHED_EPOCHS = 4


class EpochSampler:
    """Rows of one training set for every (iteration, rank): one permutation per epoch, shared by ranks.

    Parameters
    ----------
    n_rows : int
        Rows in the set (positive).
    batch_size : int
        Rows per rank and iteration.
    seed : int
        Seed of the run (non-negative).
    set_index : int
        Distinguishes the sets of a run (0 unpaired SDSS, 1 unpaired CFHT, 2 pairs).
    world_size : int
        Number of ranks sharing the epochs.
    """

    def __init__(
        self, n_rows: int, batch_size: int, *, seed: int, set_index: int, world_size: int = 1
    ) -> None:
        if n_rows < 1 or batch_size < 1 or world_size < 1:
            raise ValueError("n_rows, batch_size and world_size must be positive")
        self.n_rows = int(n_rows)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.set_index = int(set_index)
        self.world_size = int(world_size)
        self._lock = threading.Lock()
        self._epochs: OrderedDict[int, np.ndarray] = OrderedDict()

    def positions(self, iteration: int, rank: int) -> np.ndarray:
        """Rows (0 .. n_rows - 1) drawn by ``rank`` at ``iteration``, in draw order (int64)."""
        first = (int(iteration) * self.world_size + int(rank)) * self.batch_size
        flat = np.arange(first, first + self.batch_size, dtype=np.int64)
        epochs, offsets = np.divmod(flat, self.n_rows)
        rows = np.empty_like(flat)
        for epoch in np.unique(epochs):
            chosen = epochs == epoch
            rows[chosen] = self.permutation(int(epoch))[offsets[chosen]]
        return rows

    def permutation(self, epoch: int) -> np.ndarray:
        """The order of the rows in ``epoch`` (cached for the last few epochs; thread-safe)."""
        with self._lock:
            cached = self._epochs.get(epoch)
            if cached is not None:
                self._epochs.move_to_end(epoch)
                return cached
        order = np.random.default_rng([self.seed, PERMUTATION_STREAM, self.set_index, epoch]).permutation(
            self.n_rows
        )
        with self._lock:
            self._epochs[epoch] = order
            while len(self._epochs) > _CACHED_EPOCHS:
                self._epochs.popitem(last=False)
        return order


@dataclass(frozen=True)
class SetDraw:
    """The samples one training set contributes to a batch.

    Attributes
    ----------
    positions : ndarray of int64
        Row of each sample within the set's usable rows, in batch order.
    codes : ndarray of int64
        Symmetry of each sample (``2 * k + mirrored``), ascending.
    """

    positions: np.ndarray
    codes: np.ndarray


@dataclass(frozen=True)
class BatchPlan:
    """Everything random about one batch: rows and symmetries of the three sets.

    Attributes
    ----------
    iteration : int
    sdss, cfht : SetDraw
        Unpaired SDSS and CFHT samples.
    pairs : SetDraw
        Training pairs (one code per pair, shared by its two images).
    """

    iteration: int
    sdss: SetDraw
    cfht: SetDraw
    pairs: SetDraw


class BatchSampler:
    """Draws the :class:`BatchPlan` of any iteration from ``(seed, rank, iteration)`` alone.

    Parameters
    ----------
    counts : tuple of int
        Usable rows of the unpaired SDSS set, the unpaired CFHT set and the training pairs.
    batch_unpaired, batch_pairs : int
        Samples per iteration and rank from each unpaired set and from the pairs.
    seed : int
        Non-negative seed of the run.
    rank, world_size : int
        This process's rank among ``world_size`` ranks.
    """

    def __init__(
        self,
        counts: tuple[int, int, int],
        *,
        batch_unpaired: int,
        batch_pairs: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if seed < 0:
            raise ValueError(f"seed must be non-negative, not {seed}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is outside 0 .. {world_size - 1}")
        sizes = (batch_unpaired, batch_unpaired, batch_pairs)
        self.seed = int(seed)
        self.rank = int(rank)
        self._samplers = tuple(
            EpochSampler(n, size, seed=seed, set_index=index, world_size=world_size)
            for index, (n, size) in enumerate(zip(counts, sizes, strict=True))
        )

    def plan(self, iteration: int) -> BatchPlan:
        """Rows and symmetries of ``iteration`` for this rank."""
        if iteration < 0:
            raise ValueError(f"iteration must be non-negative, not {iteration}")
        rng = np.random.default_rng([self.seed, AUGMENT_STREAM, self.rank, int(iteration)])
        draws = []
        for sampler in self._samplers:
            positions = sampler.positions(iteration, self.rank)
            codes = rng.integers(0, SYMMETRIES, size=len(positions), dtype=np.int64)
            order = np.argsort(codes, kind="stable")
            draws.append(SetDraw(positions=positions[order], codes=codes[order]))
        return BatchPlan(int(iteration), *draws)


def symmetry(code: int) -> tuple[int, bool]:
    """The quarter turns ``k`` and the mirror flag of a symmetry code (0 .. 7)."""
    if not 0 <= code < SYMMETRIES:
        raise ValueError(f"symmetry code must be in 0 .. {SYMMETRIES - 1}, not {code}")
    return code >> 1, bool(code & 1)


def transform_image(image: np.ndarray, code: int) -> np.ndarray:
    """Apply symmetry ``code`` to an image (..., y, x) with NumPy: the definition the loader follows."""
    turns, mirrored = symmetry(code)
    if mirrored:
        image = np.flip(image, axis=-1)
    return np.rot90(image, turns, axes=(-2, -1))


def apply_symmetries(images: torch.Tensor, codes: np.ndarray) -> torch.Tensor:
    """Apply each sample's symmetry to a batch (B, C, H, W) on its own device.

    On the CPU the work is one strided NumPy copy per symmetry (about twice as fast as torch's flip and rot90
    and free of thread-pool contention); on other devices it runs as torch operations there.

    Parameters
    ----------
    images : torch.Tensor
        Square images, one per code.
    codes : ndarray of int
        Symmetry of each sample, ascending (as in :class:`SetDraw`).

    Returns
    -------
    torch.Tensor
        A new tensor (or ``images`` itself when every code is the identity).
    """
    if len(codes) != images.shape[0]:
        raise ValueError(f"{len(codes)} symmetry codes for {images.shape[0]} images")
    if np.any(np.diff(codes) < 0):
        raise ValueError("symmetry codes must be sorted")
    if not np.any(codes):
        return images
    if images.device.type == "cpu":
        return torch.from_numpy(_apply_with_numpy(images.numpy(), codes))
    return _apply_with_torch(images, codes)


def _groups(codes: np.ndarray) -> list[tuple[int, int, int]]:
    """``(code, start, stop)`` of each symmetry present in sorted ``codes``."""
    bounds = np.searchsorted(codes, np.arange(SYMMETRIES + 1))
    return [
        (code, int(bounds[code]), int(bounds[code + 1]))
        for code in range(SYMMETRIES)
        if bounds[code] < bounds[code + 1]
    ]


def _apply_with_numpy(images: np.ndarray, codes: np.ndarray) -> np.ndarray:
    out = np.empty_like(images)
    for code, start, stop in _groups(codes):
        out[start:stop] = transform_image(images[start:stop], code)
    return out


def _apply_with_torch(images: torch.Tensor, codes: np.ndarray) -> torch.Tensor:
    out = torch.empty_like(images)
    for code, start, stop in _groups(codes):
        turns, mirrored = symmetry(code)
        part = images[start:stop]
        if mirrored:
            part = part.flip(-1)
        out[start:stop] = torch.rot90(part, turns, dims=(-2, -1))
    return out
