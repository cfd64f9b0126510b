"""The declarative importer: columns with parsers, a natural key, cross-row checks and an apply step.

An importer is a class with ``columns`` (Chinese headers, required or not, a parser each), the
columns that make its natural key, ``check`` (everything that needs the whole file or the database:
parents, grids, scope, conflicts) and ``apply`` (writes the plan ``check`` made, through services,
inside the caller's transaction). The engine (``engine.py``) drives them: every row is validated
before anything is written, and a file with any error writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from dualgrid.accounts.models import Role, User
from dualgrid.lib.errors import Forbidden
from dualgrid.places.models import AdminUnit

from .parsers import Parser

IMPORTING_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER})


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    parse: Parser
    required: bool = False
    help: str = ""
    example: Any = ""
    # A drop-down in the template (a tuple, or a function reading the configured values from the
    # database); ``free_choices`` lets a cell hold other text too (several tags in one cell).
    choices: tuple[str, ...] | Callable[[], Sequence[str]] = ()
    free_choices: bool = False
    width: int = 16
    # Long digit strings (codes, ID numbers) must stay text in Excel or their last digits are lost.
    text_format: bool = False

    def choice_list(self) -> list[str]:
        return list(self.choices() if callable(self.choices) else self.choices)


@dataclass
class Row:
    number: int  # the Excel row number, as the user sees it
    values: dict[str, Any]


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: Counts) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


class ImportRefused(Exception):
    """The file as a whole cannot be imported (missing headers, no rows, too many rows)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Errors:
    items: list[RowError] = field(default_factory=list)
    rows: set[int] = field(default_factory=set)

    def add(self, row: Row | int, column: str, reason: str) -> None:
        number = row.number if isinstance(row, Row) else row
        self.items.append(RowError(number, column, reason))
        self.rows.add(number)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def sorted(self) -> list[RowError]:
        return sorted(self.items, key=lambda e: e.row)


@dataclass(frozen=True)
class ImportScope:
    """Where a user may write: everywhere (administrator) or inside one unit (a dispatcher)."""

    unit: AdminUnit | None

    @classmethod
    def for_user(cls, user: User, *, admin_only: bool = False) -> ImportScope:
        role = Role.ADMIN if user.is_superuser else user.role
        if admin_only and role != Role.ADMIN:
            raise Forbidden("只有系统管理员可以导入此类数据")
        if role not in IMPORTING_ROLES:
            raise Forbidden("只有系统管理员和调度员可以导入数据")
        if role == Role.ADMIN:
            return cls(unit=None)
        if user.unit is None:
            raise Forbidden("您的账号没有管辖区划，不能导入数据")
        return cls(unit=user.unit)

    @property
    def everywhere(self) -> bool:
        return self.unit is None

    def covers(self, ancestor_ids: Iterable[int | None]) -> bool:
        """Whether a place whose unit chain (itself and every unit above it) is ``ancestor_ids`` lies
        inside the scope."""
        return self.unit is None or self.unit.pk in set(ancestor_ids)

    def refusal(self) -> str:
        return f"不在您的管辖范围（{self.unit.name if self.unit else ''}）内，不能导入"


class Importer:
    """Subclasses declare ``kind``, ``label``, ``columns``, ``key_columns`` and implement ``check``
    and ``apply``."""

    kind: ClassVar[str]
    label: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    key_columns: ClassVar[tuple[str, ...]]
    notes: ClassVar[tuple[str, ...]] = ()
    # The places tree (units, grids, departments) is the administrator's; registers are the units'.
    admin_only: ClassVar[bool] = False

    def __init__(self, *, user: User) -> None:
        self.user = user
        self.scope = ImportScope.for_user(user, admin_only=self.admin_only)
        self.counts = Counts()

    @classmethod
    def column(cls, key: str) -> Column:
        return next(c for c in cls.columns if c.key == key)

    @classmethod
    def header(cls, key: str) -> str:
        return cls.column(key).header

    @classmethod
    def key_headers(cls) -> str:
        return "+".join(cls.header(k) for k in cls.key_columns)

    def natural_key(self, row: Row) -> Hashable | None:
        """The row's identity within the file; None skips the duplicate check for the row."""
        values = tuple(row.values.get(k) for k in self.key_columns)
        return None if any(v is None for v in values) else values

    @staticmethod
    def sound(rows: Sequence[Row], errors: Errors) -> list[Row]:
        """The rows without a cell error: cross checks skip the others (one clear reason per cell is
        enough) but may still look them up, so a child of a broken row is not reported as orphaned."""
        broken = set(errors.rows)
        return [r for r in rows if r.number not in broken]

    def check(self, rows: Sequence[Row], errors: Errors) -> None:
        """Cross-row and database checks over every parsed row; records what ``apply`` will write."""
        raise NotImplementedError

    def apply(self, errors: Errors) -> Counts:
        """Write what ``check`` planned, inside the caller's transaction. A row a service refuses is
        added to ``errors`` (the caller then rolls everything back)."""
        raise NotImplementedError
