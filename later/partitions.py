"""Monthly range partitioning of large tables, switched on without downtime.

The tables and their partition keys are named by `settings.PARTITIONED_TABLES` (the snapshot
tables and the comment table). `partitions_switch` turns one of them into a table partitioned
by month on its key while the application keeps reading and writing it (docs/scaling.md):

1. online, on the live table: a unique index on (id, key) built CONCURRENTLY (a partitioned
   table's primary key must hold the key) and a CHECK (key < boundary) added NOT VALID, then
   VALIDATEd (a scan that does not block writes);
2. an empty partitioned twin with the same columns, defaults, checks, foreign keys, indexes and
   unique constraints, primary key (id, key), and one partition per month from the boundary on;
3. one short transaction (lock_timeout, retried): rename the live table, ATTACH it as the
   partition of everything before the boundary (instant: the validated CHECK proves the range,
   and every index of the twin finds its match on it, so nothing is built or scanned), and give
   the twin the live table's name. Writers wait milliseconds; no row is copied. Foreign keys
   into the table (they name its whole key: (id, key)) are moved onto the partitioned table in
   the same transaction, NOT VALID (checked for every new row, old rows not scanned yet);
4. online again: those foreign keys are VALIDATEd (a scan that does not block writes). A
   self-reference (a reply's parent) is held by each partition until then, and then by the
   partitioned table, which takes the validated ones over without a scan.

Afterwards `partitions_create_ahead` (beat, daily) keeps the next months' partitions created.
Only PostgreSQL partitions; nothing here runs elsewhere.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import OperationalError, connection, models, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

AHEAD_MONTHS = 3
SWAP_LOCK_TIMEOUT = "3s"
SWAP_ATTEMPTS = 5


@dataclass(frozen=True)
class Partitioned:
    model: type[models.Model]
    key: str  # the partition key's column

    @property
    def table(self) -> str:
        return str(self.model._meta.db_table)

    @property
    def is_date(self) -> bool:
        """A date column (else timestamptz)."""
        return not isinstance(self.model._meta.get_field(self.key), models.DateTimeField)


def partitioned_tables() -> tuple[Partitioned, ...]:
    """The partitionable tables, from `settings.PARTITIONED_TABLES` ("app.Model" -> key)."""
    return tuple(
        Partitioned(apps.get_model(label), key)
        for label, key in settings.PARTITIONED_TABLES.items()
    )


class PartitionError(Exception):
    pass


def table_named(name: str) -> Partitioned:
    tables = partitioned_tables()
    for spec in tables:
        if name in (spec.table, spec.model.__name__, spec.model._meta.label):
            return spec
    known = ", ".join(spec.table for spec in tables)
    raise PartitionError(f"{name!r} is not a partitionable table (known: {known})")


def _month(day: dt.date, add: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + add
    return dt.date(index // 12, index % 12 + 1, 1)


def _bound(spec: Partitioned, month: dt.date) -> str:
    return f"'{month.isoformat()}'" if spec.is_date else f"'{month.isoformat()} 00:00:00+00'"


def _name(spec: Partitioned, month: dt.date) -> str:
    return f"{spec.table}_y{month.year}m{month.month:02d}"


def _before_name(spec: Partitioned, month: dt.date) -> str:
    return f"{spec.table}_before_y{month.year}m{month.month:02d}"


_SUFFIX = re.compile(r"_(before_)?y(\d{4})m(\d{2})$")


def is_partitioned(spec: Partitioned) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [spec.table])
        row = cursor.fetchone()
    return bool(row and row[0] == "p")


def partitions_of(spec: Partitioned) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname",
            [spec.table],
        )
        return [row[0] for row in cursor.fetchall()]


def _covered_until(spec: Partitioned) -> dt.date | None:
    """The first month no partition covers yet (partitions are contiguous by construction)."""
    ends: list[dt.date] = []
    for name in partitions_of(spec):
        match = _SUFFIX.search(name)
        if match:
            month = dt.date(int(match[2]), int(match[3]), 1)
            ends.append(month if match[1] else _month(month, 1))
    return max(ends) if ends else None


def partitions_create_ahead(
    *, months: int = AHEAD_MONTHS, today: dt.date | None = None
) -> list[str]:
    """Create the monthly partitions of every switched-on table up to `months` ahead (empty
    tables, instant). Returns the partitions created; safe to run any number of times."""
    if connection.vendor != "postgresql":
        return []
    today = today or timezone.now().date()
    horizon = _month(today, months + 1)
    created: list[str] = []
    for spec in partitioned_tables():
        if not is_partitioned(spec):
            continue
        month = _covered_until(spec) or _month(today)
        with connection.cursor() as cursor:
            while month < horizon:
                name = _name(spec, month)
                cursor.execute(
                    f'CREATE TABLE IF NOT EXISTS "{name}" PARTITION OF "{spec.table}" '
                    f"FOR VALUES FROM ({_bound(spec, month)}) TO ({_bound(spec, _month(month, 1))})"
                )
                created.append(name)
                month = _month(month, 1)
    return created


def _short(name: str) -> str:
    return name[:63]


def _prepare_live_table(cursor: CursorWrapper, spec: Partitioned, boundary: dt.date) -> None:
    """Step 1, online: the (id, key) unique constraint and the validated upper bound."""
    table, key = spec.table, spec.key
    unique = _short(f"{table}_id_{key}_uniq")
    cursor.execute(
        f'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "{unique}" ON "{table}" (id, "{key}")'
    )
    cursor.execute(
        "SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = to_regclass(%s)",
        [unique, table],
    )
    if cursor.fetchone() is None:
        cursor.execute(
            f'ALTER TABLE "{table}" ADD CONSTRAINT "{unique}" UNIQUE USING INDEX "{unique}"'
        )
    bound = _short(f"{table}_before_bound")
    cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{bound}"')
    cursor.execute(
        f'ALTER TABLE "{table}" ADD CONSTRAINT "{bound}" '
        f'CHECK ("{key}" IS NOT NULL AND "{key}" < {_bound(spec, boundary)}) NOT VALID'
    )
    cursor.execute(f'ALTER TABLE "{table}" VALIDATE CONSTRAINT "{bound}"')


def _build_twin(
    cursor: CursorWrapper, spec: Partitioned, twin: str, boundary: dt.date, months: int
) -> None:
    """Step 2: the empty partitioned twin, matching every index and constraint of the live
    table, so that ATTACH finds them all and builds nothing."""
    table, key = spec.table, spec.key
    cursor.execute(f'DROP TABLE IF EXISTS "{twin}"')
    cursor.execute(
        f'CREATE TABLE "{twin}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
        f'INCLUDING GENERATED INCLUDING STORAGE) PARTITION BY RANGE ("{key}")'
    )
    # LIKE copied the live table's upper bound too; the months past it must not have it.
    bound = _short(f"{table}_before_bound")
    cursor.execute(f'ALTER TABLE "{twin}" DROP CONSTRAINT IF EXISTS "{bound}"')
    cursor.execute(
        f'ALTER TABLE "{twin}" ADD CONSTRAINT "{_short(twin + "_pkey")}" PRIMARY KEY (id, "{key}")'
    )
    # Constraints: unique ones (they must hold the key) and foreign keys, as defined; a
    # reference to the table itself moves with the others in the swap (_move_references).
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%s) AND contype IN ('u', 'f') "
        "AND NOT (contype = 'f' AND confrelid = conrelid) ORDER BY conname",
        [table],
    )
    constraint_indexes: set[str] = set()
    for name, kind, definition in cursor.fetchall():
        if kind == "u":
            constraint_indexes.add(name)
            if name == _short(f"{table}_id_{key}_uniq"):
                continue  # the twin's primary key matches it
            if key not in definition:
                raise PartitionError(f"{table}.{name} does not hold the partition key {key}")
        cursor.execute(f'ALTER TABLE "{twin}" ADD CONSTRAINT "{_short(name + "_p")}" {definition}')
    # Plain indexes (not backing a constraint), as defined.
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = to_regclass(%s) AND NOT i.indisprimary ORDER BY c.relname",
        [table],
    )
    for name, definition in cursor.fetchall():
        if name in constraint_indexes:
            continue
        if definition.startswith("CREATE UNIQUE"):
            raise PartitionError(f"{table} has a unique index {name} outside its constraints")
        on = re.search(r" ON (?:ONLY )?(\S+) USING ", definition)
        assert on is not None, definition
        rest = definition[on.end() - len(" USING ") :]
        cursor.execute(f'CREATE INDEX "{_short(name + "_p")}" ON "{twin}"{rest}')
    for n in range(months + 1):
        month = _month(boundary, n)
        cursor.execute(
            f'CREATE TABLE "{_name(spec, month)}" PARTITION OF "{twin}" '
            f"FOR VALUES FROM ({_bound(spec, month)}) TO ({_bound(spec, _month(month, 1))})"
        )


@dataclass(frozen=True)
class _Reference:
    """A foreign key into the partitioned table (it names the table's (id, key)), as defined."""

    table: str  # the referencing table (the table itself for a self-reference)
    name: str
    definition: str


def _references(cursor: CursorWrapper, table: str) -> list[_Reference]:
    """The foreign keys into `table`, not the per-partition copies PostgreSQL keeps of them."""
    cursor.execute(
        "SELECT r.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "JOIN pg_class r ON r.oid = c.conrelid WHERE c.contype = 'f' "
        "AND c.confrelid = to_regclass(%s) AND c.conparentid = 0 ORDER BY 1, 2",
        [table],
    )
    return [_Reference(*row) for row in cursor.fetchall()]


def _move_references(
    cursor: CursorWrapper, spec: Partitioned, references: list[_Reference]
) -> None:
    """In the swap, after the renames: the foreign keys dropped from the old table point at the
    partitioned one, NOT VALID (new rows are checked at once; old rows by _finish_references).
    PostgreSQL cannot add a NOT VALID foreign key to a partitioned table, so a self-reference
    is held by each partition until it is validated."""
    for ref in references:
        holders = partitions_of(spec) if ref.table == spec.table else [ref.table]
        for holder in holders:
            cursor.execute(
                f'ALTER TABLE "{holder}" ADD CONSTRAINT "{ref.name}" {ref.definition} NOT VALID'
            )


def _finish_references(spec: Partitioned) -> None:
    """Step 4, online: VALIDATE what the swap added NOT VALID (a scan that does not block
    writes), then a self-reference moves from the partitions to the partitioned table (which
    takes over the partitions' validated constraints without a scan). Safe to re-run."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.relname, c.conname FROM pg_constraint c "
            "JOIN pg_class r ON r.oid = c.conrelid WHERE c.contype = 'f' "
            "AND c.confrelid = to_regclass(%s) AND c.conparentid = 0 AND NOT c.convalidated "
            "ORDER BY 1, 2",
            [spec.table],
        )
        for holder, name in cursor.fetchall():
            cursor.execute(f'ALTER TABLE "{holder}" VALIDATE CONSTRAINT "{name}"')
        cursor.execute(
            "SELECT DISTINCT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_inherits i ON i.inhrelid = c.conrelid AND i.inhparent = to_regclass(%s) "
            "WHERE c.contype = 'f' AND c.confrelid = i.inhparent AND c.conparentid = 0 "
            "ORDER BY 1",
            [spec.table],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f'ALTER TABLE "{spec.table}" ADD CONSTRAINT "{name}" {definition}')


def _swap(spec: Partitioned, twin: str, boundary: dt.date) -> float:
    """Step 3: one short transaction; retried when the lock is not granted in time. Returns
    how long the successful transaction took (seconds: what writers waited at most)."""
    table, before = spec.table, _before_name(spec, boundary)
    for attempt in range(SWAP_ATTEMPTS):
        started = time.perf_counter()
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
                references = _references(cursor, table)
                for ref in references:
                    cursor.execute(f'ALTER TABLE "{ref.table}" DROP CONSTRAINT "{ref.name}"')
                cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{before}"')
                cursor.execute(
                    f'ALTER TABLE "{twin}" ATTACH PARTITION "{before}" '
                    f"FOR VALUES FROM (MINVALUE) TO ({_bound(spec, boundary)})"
                )
                cursor.execute(f'ALTER TABLE "{twin}" RENAME TO "{table}"')
                _move_references(cursor, spec, references)
            return time.perf_counter() - started
        except OperationalError:
            if attempt == SWAP_ATTEMPTS - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def default_boundary(today: dt.date | None = None) -> dt.date:
    """The first day of the month after next: every row written until the swap (this month's
    and next month's) still fits the live table's CHECK."""
    return _month(today or timezone.now().date(), 2)


def partitions_switch(
    *, spec: Partitioned, boundary: dt.date | None = None, months: int = AHEAD_MONTHS
) -> float | None:
    """Switch `spec`'s table to monthly partitions while it takes reads and writes. Returns
    the seconds the swap transaction held its lock, or None when the table already is
    partitioned. Must run outside a transaction (CONCURRENTLY)."""
    if connection.vendor != "postgresql":
        raise PartitionError("monthly partitioning needs PostgreSQL")
    if connection.in_atomic_block:
        raise PartitionError("switching builds an index CONCURRENTLY: run it outside a transaction")
    if is_partitioned(spec):
        _finish_references(spec)  # a switch cut short after its swap
        return None
    boundary = _month(boundary or default_boundary())
    twin = _short(f"{spec.table}_partitioned")
    with connection.cursor() as cursor:
        _prepare_live_table(cursor, spec, boundary)
        _build_twin(cursor, spec, twin, boundary, months)
    held = _swap(spec, twin, boundary)
    _finish_references(spec)
    return held


def partitions_switch_off(*, spec: Partitioned) -> bool:
    """Back to one plain table: rows of the monthly partitions move into the old table, which
    takes the table's name again, and the foreign keys into it follow (validated). Takes an
    exclusive lock for the move (not an online step)."""
    if not is_partitioned(spec):
        return False
    children = partitions_of(spec)
    before = [name for name in children if "_before_" in name]
    if len(before) != 1:
        raise PartitionError(f"{spec.table} has no single table of the rows before the months")
    old = before[0]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f'LOCK TABLE "{spec.table}" IN ACCESS EXCLUSIVE MODE')
        references = _references(cursor, spec.table)
        for ref in references:
            cursor.execute(f'ALTER TABLE "{ref.table}" DROP CONSTRAINT "{ref.name}"')
        cursor.execute(f'ALTER TABLE "{spec.table}" DETACH PARTITION "{old}"')
        bound = _short(spec.table + "_before_bound")
        cursor.execute(f'ALTER TABLE "{old}" DROP CONSTRAINT IF EXISTS "{bound}"')
        # Every stored column (a generated one is computed again).
        cursor.execute(
            "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
            "WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped "
            "AND attgenerated = ''",
            [old],
        )
        columns = cursor.fetchone()[0]
        for name in children:
            if name != old:
                cursor.execute(
                    f'INSERT INTO "{old}" ({columns}) SELECT {columns} FROM "{name}"'  # noqa: S608
                )
        cursor.execute(f'DROP TABLE "{spec.table}"')
        cursor.execute(f'ALTER TABLE "{old}" RENAME TO "{spec.table}"')
        # The moved rows' deferred checks (its own foreign keys) run now: PostgreSQL alters no
        # table with checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for ref in references:
            cursor.execute(
                f'ALTER TABLE "{ref.table}" ADD CONSTRAINT "{ref.name}" {ref.definition}'
            )
    return True
