"""Page-test helpers on top of the shared cast (dualgrid/conftest.py): logged-in clients, photos,
uploads kept out of the real media directory, and a clean cache for every test."""

import io
from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from dualgrid.accounts.models import User


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def login() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def jpeg() -> Callable[[str], SimpleUploadedFile]:
    def make(name: str = "photo.jpg") -> SimpleUploadedFile:
        buf = io.BytesIO()
        Image.new("RGB", (32, 24), "#5b7a99").save(buf, "JPEG")
        return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")

    return make
