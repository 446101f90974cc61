"""The decide tests share one national scoring (``national6`` in tests/conftest.py) under short names."""

from __future__ import annotations

import pytest

from siting.config import Study


@pytest.fixture(scope="module")
def study(national6) -> Study:
    return national6.study


@pytest.fixture(scope="module")
def profile(national6):
    return national6.profile


@pytest.fixture(scope="module")
def result(national6):
    return national6.result
