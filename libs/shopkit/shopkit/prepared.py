"""Hot reads of a fixed shape: the ORM builds and compiles the query once per process.

Building a QuerySet and compiling it to SQL costs a primary-key read several
times what MariaDB takes to answer it (about 0.3 ms of CPU against 0.04 ms).
`PreparedValuesQuery` builds its `.values()` query once, with a marker integer
in place of each argument, keeps the SQL, the markers' positions among the
parameters and the columns' converters, and then runs that SQL with the real
arguments: the same statement and the same Python values (Django's converters,
e.g. aware datetimes) as the QuerySet would give.

Only for queries whose SQL does not depend on the arguments' values (an `=` on
an integer column; not slices or optional filters). An argument given as a list
of integers (an `__in` filter) is compiled once per length of that list: the
internal batch lookups send at most 100 ids, so at most 100 variants. The list's
integers must be distinct (Django drops repeated values from an `__in`), and an
empty list gives no rows without a query (as `__in=[]` does). A text argument (an
`=` on a text column, e.g. a reservation's reference) is compiled with a text marker.
A page of the rows (`page(limit=, offset=)`) appends `LIMIT %s OFFSET %s` to the
kept SQL; and `pages()` hands a paginator the rows with a kept count
(shopkit.pagination). `raw_page()` is the same page as the driver's tuples, before
Django's converters and without a dict per row: for callers that find what they keep
by the row (shopkit.rendering.KeptJson.from_raw) and convert only the rows they do not
have (`raw_rows()` likewise for rows()).

Writes of a fixed shape have the same problem: `Model.save()`, `bulk_create()` and
`QuerySet.update()` build and compile their statement on every call (0.3-0.5 ms of CPU
each, for a statement MariaDB runs in ~0.05 ms). `PreparedWrite` is an INSERT, UPDATE
or DELETE on one model's table whose SQL is written once with the model's names
(`{table}`, `{<field>}`) and quoted once per database; every `%s` is bound to a field,
whose `get_db_prep_save` adapts the value exactly as the ORM's compilers do (aware
datetimes to the database's form, Decimals, JSON with the field's encoder, choices).
`PreparedInsert` inserts model instances as `save()` and `bulk_create()` would (the
fields' `pre_save`, so `auto_now`/`auto_now_add` too), without signals, `full_clean`
or the checks of `save()` (the caller validated; the database's constraints hold).
Both run on MySQL/MariaDB and SQLite.
"""

import threading
from collections.abc import Callable, Iterable, Sequence

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.utils.functional import cached_property

# Stand-ins for the arguments while compiling, each checked to appear exactly once
# among the compiled parameters. In range for every integer column but the small
# ones (Django drops a comparison with an out-of-range value, which is refused here).
_MARKER_BASE = 2_147_483_000
_TEXT_MARKER = "\x00shopkit-prepared-{}\x00"


class PreparedValuesQuery:
    def __init__(self, build: Callable[..., QuerySet], *, arguments: tuple[str, ...]):
        """`build(**{name: int, text or list of ints})` returns the `.values()` QuerySet
        for those arguments."""
        self._build = build
        self._arguments = arguments
        # Compiled once per shape: () without list arguments, else the lists' lengths.
        self._compiled: dict[tuple, tuple] = {}
        self._lock = threading.Lock()

    def _compile(self, shape: dict[str, int | None]) -> tuple:
        markers, next_marker = {}, _MARKER_BASE
        for name in self._arguments:
            length = shape[name]
            if length is None:
                markers[name] = next_marker
                next_marker += 1
            elif length is str:
                markers[name] = _TEXT_MARKER.format(next_marker)
                next_marker += 1
            else:
                markers[name] = list(range(next_marker, next_marker + length))
                next_marker += length
        queryset = self._build(**markers)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        positions = {}
        for name, marker in markers.items():
            found = []
            for one in marker if isinstance(marker, list) else [marker]:
                at = [index for index, value in enumerate(params) if value == one]
                if len(at) != 1:
                    raise ValueError(f"argument {name!r} must appear exactly once in the query")
                found.append(at[0])
            positions[name] = found
        columns = list(queryset.query.values_select)
        if len(columns) != len(compiler.select):
            raise ValueError("only .values() of plain columns can be prepared")
        converters = [
            (index, converter_list, expression)
            for index, (converter_list, expression) in compiler.get_converters(
                [column for column, _, _ in compiler.select]
            ).items()
        ]
        return queryset.db, sql, tuple(params), positions, columns, converters

    def rows(self, **arguments: int | str | list[int]) -> list[dict]:
        """The rows for these arguments, as `.values()` dicts."""
        return self._run("", (), arguments)

    def page(self, *, limit: int, offset: int, **arguments: int | str) -> list[dict]:
        """`limit` rows from `offset` on, in the query's order (one statement)."""
        return self._run(" LIMIT %s OFFSET %s", (int(limit), int(offset)), arguments)

    def raw_rows(self, **arguments: int | str | list[int]) -> "RawRows":
        """rows() as the driver's tuples (see raw_page), with what converts one."""
        if self._shape(arguments) is None:
            return RawRows.empty()  # `__in=[]`: no rows, nothing to convert
        columns, as_dict = self.row_maker(**arguments)
        return RawRows(self._run("", (), arguments, raw=True), columns, as_dict)

    def raw_page(self, *, limit: int, offset: int, **arguments: int | str) -> list[tuple]:
        """page() as the database driver gave the rows: tuples, before Django's converters.

        A tuple identifies its row as well as the dict does (the converters are functions
        of the value), and costs nothing to make: a kept text can be found by it (e.g.
        shopkit.rendering.KeptJson.from_raw), and only a row not kept yet needs
        `row_maker`'s conversion.
        """
        return self._run(" LIMIT %s OFFSET %s", (int(limit), int(offset)), arguments, raw=True)

    def row_maker(self, **arguments: int | str | list[int]) -> tuple[tuple[str, ...], Callable]:
        """The rows' column names, in the order of the raw tuples, and the function that
        turns one raw tuple into the `.values()` dict rows() and page() give."""
        alias, _sql, _template, _positions, columns, converters = self._get(self._shape(arguments))
        connection = connections[alias]
        return tuple(columns), lambda raw: _values_dict(raw, columns, converters, connection)

    def pages(self, *, raw: bool = False, **arguments: int | str) -> "PreparedPages":
        """The rows as a sequence for a paginator: counted by cached_count, sliced by page()
        (by raw_page() with `raw`)."""
        return PreparedPages(self, arguments, raw=raw)

    def queryset(self, **arguments: int | str | list[int]) -> QuerySet:
        """The QuerySet this query was prepared from (for its count)."""
        return self._build(**arguments)

    def key(self, **arguments: int | str) -> str:
        """Identifies the query with these arguments within this process (a kept count's key)."""
        alias, sql, template = self._get(self._shape(arguments))[:3]
        return f"prepared:{alias}:{sql}:{template!r}:{sorted(arguments.items())!r}"

    def _shape(self, arguments: dict) -> dict | None:
        """Each argument's kind: None (an integer), str, or a list's length; None when a
        list is empty (no rows, no query)."""
        shape = {}
        for name in self._arguments:
            value = arguments[name]
            if isinstance(value, list | tuple):
                if not value:
                    return None  # `__in=[]` matches nothing
                shape[name] = len(value)
            elif isinstance(value, str):
                shape[name] = str
            else:
                shape[name] = None
        return shape

    def _get(self, shape: dict) -> tuple:
        key = tuple(shape.values())
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(key)
                if compiled is None:
                    compiled = self._compiled[key] = self._compile(shape)
        return compiled

    def _run(
        self, suffix: str, suffix_params: tuple, arguments: dict, *, raw: bool = False
    ) -> list:
        shape = self._shape(arguments)
        if shape is None:
            return []
        alias, sql, template, positions, columns, converters = self._get(shape)
        params = list(template)
        for name, found in positions.items():
            value = arguments[name]
            if isinstance(value, str):
                params[found[0]] = value
                continue
            values = value if isinstance(value, list | tuple) else [value]
            for position, one in zip(found, values, strict=True):
                params[position] = int(one)
        params.extend(suffix_params)
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(sql + suffix, params)
            rows = cursor.fetchall()
        if raw:
            return list(rows)
        return [_values_dict(row, columns, converters, connection) for row in rows]

    def forget(self) -> None:
        """Compile again on the next call (tests that change settings or databases)."""
        with self._lock:
            self._compiled = {}


def _values_dict(row: tuple, columns: list[str], converters: list, connection) -> dict:
    """A fetched row as `.values()` gives it: Django's converters applied, by column name."""
    if converters:
        row = list(row)
        for index, converter_list, expression in converters:
            value = row[index]
            for converter in converter_list:
                value = converter(value, expression, connection)
            row[index] = value
    return dict(zip(columns, row, strict=True))


class RawRows(list):
    """Rows as the driver's tuples (PreparedValuesQuery.raw_rows), with their column
    names and `as_dict`, which converts one to the `.values()` dict rows() gives."""

    def __init__(self, rows: list[tuple], columns: tuple[str, ...], as_dict: Callable):
        super().__init__(rows)
        self.columns = columns
        self.as_dict = as_dict

    @classmethod
    def empty(cls) -> "RawRows":
        """No rows (so nothing to convert)."""
        return cls([], (), dict)


class PreparedPages:
    """A prepared query's rows as the sequence a Django Paginator cuts pages from.

    `count()` is shopkit.pagination's kept count of the same query; a slice is one
    statement with LIMIT/OFFSET (no QuerySet built or compiled per page). With `raw`
    a slice holds the driver's tuples (`raw_page`), which `as_dict` converts.
    """

    ordered = True  # the prepared query has its ORDER BY

    def __init__(self, query: PreparedValuesQuery, arguments: dict, *, raw: bool = False):
        self._query = query
        self._arguments = arguments
        self.raw = raw

    @cached_property
    def _row_maker(self) -> tuple[tuple[str, ...], Callable]:
        return self._query.row_maker(**self._arguments)

    @property
    def columns(self) -> tuple[str, ...]:
        return self._row_maker[0]

    def as_dict(self, raw: tuple) -> dict:
        return self._row_maker[1](raw)

    def count(self) -> int:
        from shopkit.pagination import cached_count  # pagination imports DRF

        return cached_count(
            lambda: self._query.queryset(**self._arguments),
            key=self._query.key(**self._arguments),
        )

    def __getitem__(self, item: slice) -> list:
        if not isinstance(item, slice) or item.step is not None:
            raise TypeError("PreparedPages only supports slices without a step")
        start = item.start or 0
        if item.stop is None or start < 0 or item.stop < start:
            raise ValueError("PreparedPages needs a slice from start to stop")
        page = self._query.raw_page if self.raw else self._query.page
        return page(limit=item.stop - start, offset=start, **self._arguments)


class _ModelNames(dict):
    """`{table}` and `{<field name or attname>}` of one model, quoted for one database."""

    def __init__(self, model: type[Model], quote_name: Callable[[str], str]):
        super().__init__()
        self.model = model
        self.quote_name = quote_name

    def __missing__(self, name: str) -> str:
        if name == "table":
            return self.quote_name(self.model._meta.db_table)
        return self.quote_name(self.model._meta.get_field(name).column)


class PreparedWrite:
    """An INSERT, UPDATE or DELETE of a fixed shape on one model's table.

    `sql` names the table `{table}` and columns by their fields (`{stock}`,
    `{cart_id}`); each `%s` is bound, in order, to the field named in `params`, which
    adapts the value as the ORM would. The SQL is quoted once per database alias (the
    model's write database unless `using`). `update()` and `delete()` write the usual
    shapes; anything else (`{stock} = {stock} - %s`, a CASE) is written out.
    """

    def __init__(
        self, model: type[Model], sql: str, *, params: Sequence[str] = (), using: str | None = None
    ):
        self.model = model
        self.template = sql
        self.params = tuple(params)
        self.using = using
        self._compiled: dict[tuple[str, str], tuple] = {}

    @classmethod
    def update(
        cls,
        model: type[Model],
        *,
        set: Sequence[str],
        where: Sequence[str],
        using: str | None = None,
    ) -> "PreparedWrite":
        """`UPDATE {table} SET a = %s, ... WHERE x = %s AND ...`: values for `set`, then `where`."""
        assignments = ", ".join(f"{{{name}}} = %s" for name in set)
        return cls(
            model,
            # Only the model's names go into the SQL; every value is a parameter.
            f"UPDATE {{table}} SET {assignments} WHERE {_conditions(where)}",  # noqa: S608
            params=(*set, *where),
            using=using,
        )

    @classmethod
    def delete(
        cls, model: type[Model], *, where: Sequence[str], using: str | None = None
    ) -> "PreparedWrite":
        """`DELETE FROM {table} WHERE x = %s AND ...`."""
        sql = f"DELETE FROM {{table}} WHERE {_conditions(where)}"  # noqa: S608 (names only)
        return cls(model, sql, params=where, using=using)

    def _get(self) -> tuple:
        alias = self.using or router.db_for_write(self.model)
        connection = connections[alias]
        key = (alias, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:  # built twice by two threads at worst: the same SQL
            sql = self.template.format_map(_ModelNames(self.model, connection.ops.quote_name))
            fields = tuple(self.model._meta.get_field(name) for name in self.params)
            if sql.count("%s") != len(fields):
                raise ValueError("one field in `params` for each %s of the statement")
            compiled = self._compiled[key] = (alias, sql, fields)
        return compiled

    def execute(self, *values) -> int:
        """Run it with these values (one per `params`); returns how many rows it matched."""
        alias, sql, fields = self._get()
        connection = connections[alias]
        params = [
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, values, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def forget(self) -> None:
        """Build the SQL again on the next call (tests that change databases)."""
        self._compiled = {}


def _conditions(names: Sequence[str]) -> str:
    return " AND ".join(f"{{{name}}} = %s" for name in names)


class PreparedInsert:
    """Model instances inserted as `save()` and `bulk_create()` would, their SQL kept.

    Every local concrete field but an auto primary key (or only `fields`), each value
    taken by the field's `pre_save` (so `auto_now` and `auto_now_add` apply) and adapted
    by its `get_db_prep_save`, as the ORM's INSERT does. No signals, no `full_clean`:
    for rows built from validated data, whose rules the database enforces too.
    """

    def __init__(
        self, model: type[Model], fields: Sequence[str] | None = None, *, using: str | None = None
    ):
        self.model = model
        self.using = using
        self._names = None if fields is None else tuple(fields)
        self._compiled: dict[tuple, tuple] = {}

    def _fields(self) -> tuple:
        meta = self.model._meta
        if self._names is not None:
            return tuple(meta.get_field(name) for name in self._names)
        return tuple(
            field
            for field in meta.local_concrete_fields
            if field is not meta.auto_field and not getattr(field, "generated", False)
        )

    def _get(self, rows: int) -> tuple:
        alias = self.using or router.db_for_write(self.model)
        connection = connections[alias]
        key = (alias, connection.vendor, rows)
        compiled = self._compiled.get(key)
        if compiled is None:  # built twice by two threads at worst: the same SQL
            fields = self._fields()
            quote = connection.ops.quote_name
            columns = ", ".join(quote(field.column) for field in fields)
            row = "(" + ", ".join(["%s"] * len(fields)) + ")"
            table = quote(self.model._meta.db_table)
            sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * rows)}"  # noqa: S608
            compiled = self._compiled[key] = (alias, sql, fields)
        return compiled

    def _values(self, instance: Model, fields: tuple, connection) -> list:
        return [
            field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
        ]

    def save(self, instance: Model) -> Model:
        """Insert one instance (one statement); its primary key is set from the insert."""
        alias, sql, fields = self._get(1)
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(sql, self._values(instance, fields, connection))
            if self.model._meta.auto_field is not None and instance.pk is None:
                instance.pk = cursor.lastrowid
        instance._state.adding = False
        instance._state.db = alias
        return instance

    def save_many(self, instances: Iterable[Model]) -> list[Model]:
        """Insert every instance in one statement (more where the database limits its
        parameters), compiled once per number of rows. As `bulk_create` on MySQL, their
        primary keys are not read back."""
        instances = list(instances)
        if not instances:
            return instances
        alias = self.using or router.db_for_write(self.model)
        connection = connections[alias]
        width = len(self._get(1)[2])
        limit = connection.features.max_query_params
        batch = len(instances) if not limit else max(1, min(len(instances), limit // width))
        for start in range(0, len(instances), batch):
            chunk = instances[start : start + batch]
            _, sql, fields = self._get(len(chunk))
            params = []
            for instance in chunk:
                params += self._values(instance, fields, connection)
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
        for instance in instances:
            instance._state.adding = False
            instance._state.db = alias
        return instances

    def forget(self) -> None:
        """Build the SQL again on the next call (tests that change databases)."""
        self._compiled = {}
