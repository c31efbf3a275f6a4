"""Every models test starts from the same random state, so tolerance checks cannot flake."""

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_torch() -> None:
    torch.manual_seed(0)
