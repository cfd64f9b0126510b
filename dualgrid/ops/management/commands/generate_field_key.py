from typing import Any

from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "生成一个个人信息加密密钥（放入 DUALGRID_FIELD_KEYS 的最前面）"

    def handle(self, *args: Any, **opts: Any) -> None:
        self.stdout.write(Fernet.generate_key().decode())
