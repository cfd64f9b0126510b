"""Page-test helpers on top of the shared cast (dualgrid/conftest.py): logged-in clients, photos,
uploads kept out of the real media directory, and a clean cache for every test."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()
