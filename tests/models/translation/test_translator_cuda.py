"""Translating on a CUDA device gives the CPU's translations (skipped without a CUDA device)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from survey_cutouts import survey_cutouts

from galtk.models.translation.translator import find_checkpoint, load_translator
from galtk.pipeline.surveys import CFHT, SDSS

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.fixture
def _no_tf32():
    """Full float32 on the GPU: cuDNN convolutions use TF32 by default, and the trainer enables it."""
    flags = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = flags


@pytest.mark.usefixtures("_no_tf32")
@pytest.mark.parametrize("method", ["ours", "cyclegan"])
@pytest.mark.parametrize(("survey", "direction"), [(SDSS, "sdss2cfht"), (CFHT, "cfht2sdss")])
def test_cuda_translations_equal_the_cpu_ones(trained_workspace: Path, method, survey, direction) -> None:
    """Same checkpoint, same seeds: the noise is drawn on the CPU, so only the order of the float32
    operations of the networks may differ."""
    path = find_checkpoint(trained_workspace / "runs", method=method)
    images = survey_cutouts(survey, 6)
    seeds = list(range(len(images)))
    results = {}
    for device in ("cpu", "cuda"):
        translator = load_translator(path, device=device)
        assert translator.device.type == device
        results[device] = translator.translate(images, direction=direction, seeds=seeds, batch_size=4)
    cpu, cuda = results["cpu"], results["cuda"]
    assert cuda.images.dtype == np.float32 and cuda.images.shape == cpu.images.shape
    assert np.isfinite(cuda.images).all()
    scale = np.abs(cpu.images).max()
    np.testing.assert_allclose(cuda.noiseless, cpu.noiseless, rtol=0, atol=1e-4 * scale)
    np.testing.assert_allclose(cuda.images, cpu.images, rtol=0, atol=1e-4 * scale)
