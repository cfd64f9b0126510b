import os
from typing import Any

from django.apps import AppConfig
from django.core import checks


def field_keys_configured(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    from dualgrid.lib.crypto import configured_keys

    problems: list[checks.CheckMessage] = []
    if not configured_keys():
        problems.append(
            checks.Warning(
                "个人信息加密密钥由 SECRET_KEY 派生：生产环境请设置 DUALGRID_FIELD_KEYS 或 DUALGRID_FIELD_KEY_FILE",
                hint="dualgrid generate_field_key 生成密钥；见 docs/DEPLOY.md",
                id="dualgrid.W001",
            )
        )
    if not os.environ.get("DUALGRID_HASH_KEY"):
        problems.append(
            checks.Warning(
                "检索哈希密钥由 SECRET_KEY 派生：生产环境请设置 DUALGRID_HASH_KEY", id="dualgrid.W002"
            )
        )
    return problems


class OpsConfig(AppConfig):
    name = "dualgrid.ops"
    label = "ops"
    verbose_name = "运行"

    def ready(self) -> None:
        checks.register(field_keys_configured, checks.Tags.security, deploy=True)
