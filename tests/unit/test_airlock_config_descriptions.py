"""The airlock's config descriptions say what the model accepts: a size like
100M for max_bytes, and only 1 or 2 for the n of nk."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sandbox.config.descriptions import SANDBOX_YAML
from sandbox.config.model import Airlock


def test_max_bytes_is_described_as_the_size_it_accepts():
    described = str(SANDBOX_YAML["sandboxes[].airlock.max_bytes"])
    assert "100M" in described and "number of bytes" in described
    assert "in bytes (default" not in described
    assert Airlock(max_bytes="100M").max_bytes == Airlock().max_bytes == 100 * 1024**2
    assert Airlock(max_bytes=4096).max_bytes == 4096


def test_nk_is_described_with_the_only_n_it_accepts():
    assert "n is 1 or 2" in str(SANDBOX_YAML["sandboxes[].airlock.nk"])
    for n in (1, 2):
        assert Airlock(nk=(n, 0.9)).nk == (n, 0.9)
    with pytest.raises(ValidationError, match="1 or 2"):
        Airlock(nk=(3, 0.9))
