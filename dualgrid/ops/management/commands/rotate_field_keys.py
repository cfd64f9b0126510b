"""Re-encrypt every encrypted column with the current (first) key; optionally recompute the search hashes.

Every model field of type EncryptedCharField is covered; a sibling ``<field>_hash`` column, where it
exists, is the keyed hash used for exact-match search.
"""

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from dualgrid.lib.crypto import EncryptedCharField, encrypt, keyed_hash, reset_key_cache


class Command(BaseCommand):
    help = "用当前密钥重新加密全部个人信息字段（密钥轮换）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--rehash", action="store_true", help="同时用当前 DUALGRID_HASH_KEY 重算检索哈希")
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args: Any, **opts: Any) -> None:
        reset_key_cache()
        for model in apps.get_models():
            fields = [f for f in model._meta.get_fields() if isinstance(f, EncryptedCharField)]
            if not fields:
                continue
            names = [f.name for f in fields]
            hashes = {
                n: f"{n}_hash" for n in names if any(g.name == f"{n}_hash" for g in model._meta.get_fields())
            }
            done = 0
            last = 0
            while True:
                # Reading decrypts with whichever configured key fits; writing encrypts with the first.
                with transaction.atomic():
                    rows = list(
                        model._base_manager.filter(pk__gt=last)
                        .order_by("pk")
                        .values_list("pk", *names)[: opts["batch"]]
                    )
                    if not rows:
                        break
                    for pk, *plain in rows:
                        update = {n: encrypt(v) if v else v for n, v in zip(names, plain, strict=True)}
                        if opts["rehash"]:
                            update.update(
                                {
                                    hashes[n]: keyed_hash(v or "")
                                    for n, v in zip(names, plain, strict=True)
                                    if n in hashes
                                }
                            )
                        model._base_manager.filter(pk=pk).update(**update)
                    last = rows[-1][0]
                    done += len(rows)
            self.stdout.write(f"{model._meta.label}: {done} 行已用当前密钥重新加密")
