"""Selection-run tests score the test world's pool (tests/app/world.py)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.app.world import Pool, build_pool


@pytest.fixture
def pool(app: Flask, make_user: Any) -> Pool:
    return build_pool(make_user)
