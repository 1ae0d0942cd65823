"""Staff fixtures: a round and a signed-in member of staff."""

from __future__ import annotations

from typing import Any

import pytest

from app.models import Round
from tests.app.conftest import sign_in_as
from tests.app.factories import make_round
from tests.app.helpers import Client


@pytest.fixture
def round_(app: Any) -> Round:
    return make_round()


@pytest.fixture
def staff(make_user: Any) -> Any:
    return make_user("staff", name="Sam Staff")


@pytest.fixture
def staff_client(client: Client, staff: Any) -> Client:
    sign_in_as(client, staff)
    return client
