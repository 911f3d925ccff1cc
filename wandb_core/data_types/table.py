"""Tables: rows of mixed values, logged as the official client logs them.

A ``Table`` checks its cells as the official client does: each column has
a type, inferred from its cells, and a cell that does not fit is refused
(a column that held numbers takes no string) unless the table allows mixed
types. The types below follow the official client's type algebra, so that
exactly the same tables are accepted and the artifact's ``column_types``
are the same: unions of the types seen (a new column takes None), lists
typed by their elements and length, dicts by their keys, NaN counting as
None, booleans apart from numbers. Plain cells of a plain column are
checked by the ``_fast`` twin without this algebra.

Logging a table (``run.log({"key": table})``) writes two files as the
official client writes them: the run's media file
``media/table/<key>_<step>_<hash>.table.json`` (at most ``MAX_ROWS`` rows)
and the ``run-<run id>-<key>`` artifact of type ``run_table``, whose
``<key>.table.json`` holds up to ``MAX_ARTIFACT_ROWS`` rows with the
column types. History and the summary get the ``table-file`` reference
object, which names both.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from wandb_core import _fast, _term, artifacts
from wandb_core.artifacts import Manifest, ManifestEntry
from wandb_core.backend import media_io, records
from wandb_core.errors import ValueTypeError, ValueValueError

if TYPE_CHECKING:
    from wandb_core.runs import Run

logger = logging.getLogger(__name__)

Path = tuple[str, ...]

LOG_TYPE = "table-file"
ARTIFACT_TYPE = "run_table"
MEDIA_SUBDIR = "media/table"
# Tables are logged once; later changes are not logged again (the official
# client's default log mode).
LOG_MODE = "IMMUTABLE"
HASH_PREFIX = 20
DEFAULT_COLUMNS = ("Input", "Output", "Expected")
# Longest 1-d numpy array a cell may hold: the official client writes longer
# ones (and 2-d ones) to a separate .npz file in the artifact.
MAX_EMBEDDING_LENGTH = 150
_REPR_LIMIT = 60


# ---------------------------------------------------------------------------
# The official client's type algebra
# ---------------------------------------------------------------------------


class _Type:
    """A column (or element) type: what its cells were, what it takes next.

    ``assign(value)`` gives the type after a cell with that value, or
    ``INVALID`` when the value does not fit; ``assign_type`` does the same
    for a type. Types are immutable values.
    """

    wb_type: str = ""

    def assign(self, value: Any) -> _Type:
        return self.assign_type(type_of(value))

    def assign_type(self, other: _Type) -> _Type:
        return self if self == other else INVALID

    def params(self) -> dict[str, Any]:
        """The parameters, for equality, ``repr`` and JSON."""
        return {}

    def params_json(self) -> dict[str, Any]:
        return self.params()

    def to_json(self) -> dict[str, Any]:
        """The type as the artifact's ``column_types`` holds it."""
        params = self.params_json()
        if not params:
            return {"wb_type": self.wb_type}
        return {"wb_type": self.wb_type, "params": params}

    def __repr__(self) -> str:
        # The official notation; unions are sorted by it.
        params = self.params()
        name = self.wb_type.capitalize()
        if not params:
            return name
        return name + "(" + ", ".join(f"{k}:{v}" for k, v in params.items()) + ")"

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        return (
            isinstance(other, _Type)
            and type(self) is type(other)
            and self.wb_type == other.wb_type
            and self.params() == other.params()
        )

    def __hash__(self) -> int:
        return hash(repr(self))


class _Named(_Type):
    """A type without parameters: none, string, number, boolean."""

    def __init__(self, wb_type: str) -> None:
        self.wb_type = wb_type


class _Invalid(_Type):
    wb_type = "invalid"

    def assign_type(self, other: _Type) -> _Type:
        return self


class _AnyType(_Type):
    """What a column of a table with ``allow_mixed_types`` holds."""

    wb_type = "any"

    def assign_type(self, other: _Type) -> _Type:
        return INVALID if other is NONE or isinstance(other, _Invalid) else self


class _Unknown(_Type):
    """A type not known yet: becomes the type of the first value but None."""

    wb_type = "unknown"

    def assign_type(self, other: _Type) -> _Type:
        return INVALID if other is NONE else other


class _PythonObject(_Type):
    wb_type = "pythonObject"

    def __init__(self, class_name: str) -> None:
        self.class_name = class_name

    def params(self) -> dict[str, Any]:
        return {"class_name": self.class_name}


class _Described(_Type):
    """A cell object's type, as the object describes it in JSON."""

    def __init__(self, description: dict[str, Any]) -> None:
        self.description = description
        self.wb_type = str(description.get("wb_type", ""))

    def params(self) -> dict[str, Any]:
        return {
            key: _const_repr(value)
            for key, value in self.description.get("params", {}).items()
        }

    def to_json(self) -> dict[str, Any]:
        return self.description


def _const_repr(value: Any) -> str:
    if isinstance(value, dict) and value.get("wb_type") == "const":
        params = value.get("params", {})
        if params.get("is_set"):
            items = params.get("val") or []
            return "{" + ", ".join(map(repr, items)) + "}" if items else "set()"
        return str(params.get("val"))
    return str(value)


class _List(_Type):
    wb_type = "list"

    def __init__(self, element: _Type, length: int | None) -> None:
        self.element = element
        self.length = length

    @classmethod
    def of(cls, value: Any) -> _List:
        items = value.tolist() if hasattr(value, "tolist") else list(value)
        element: _Type = UNKNOWN
        if any(item is None for item in items):
            element = _Union([UNKNOWN, NONE])
        for item in items:
            # A list of mixed items keeps an invalid element type (and then
            # takes no other list), as in the official client.
            element = element.assign(item)
        return cls(element, len(items))

    def assign(self, value: Any) -> _Type:
        if not hasattr(value, "__iter__"):
            return INVALID
        items = list(value)
        element = self.element
        for item in items:
            element = element.assign(item)
            if isinstance(element, _Invalid):
                return INVALID
        return _List(element, len(items))

    def assign_type(self, other: _Type) -> _Type:
        if isinstance(other, _List):
            element = self.element.assign_type(other.element)
            if not isinstance(element, _Invalid):
                length = self.length if self.length == other.length else None
                return _List(element, length)
        return INVALID

    def params(self) -> dict[str, Any]:
        return {"element_type": self.element, "length": self.length}

    def params_json(self) -> dict[str, Any]:
        return {"element_type": self.element.to_json(), "length": self.length}

    def __repr__(self) -> str:
        return f"{self.element!r}[]"


class _Dict(_Type):
    wb_type = "typedDict"

    def __init__(self, type_map: dict[Any, _Type]) -> None:
        self.type_map = type_map

    @classmethod
    def of(cls, value: dict[Any, Any]) -> _Dict:
        return cls({key: type_of(item) for key, item in value.items()})

    def assign(self, value: Any) -> _Type:
        if not isinstance(value, dict) or not set(value) <= set(self.type_map):
            return INVALID
        assigned = {}
        for key, known in self.type_map.items():
            assigned[key] = known.assign(value.get(key))
            if isinstance(assigned[key], _Invalid):
                return INVALID
        return _Dict(assigned)

    def assign_type(self, other: _Type) -> _Type:
        if not isinstance(other, _Dict) or not set(other.type_map) <= set(
            self.type_map
        ):
            return INVALID
        assigned = {}
        for key, known in self.type_map.items():
            assigned[key] = known.assign_type(other.type_map.get(key, UNKNOWN))
            if isinstance(assigned[key], _Invalid):
                return INVALID
        return _Dict(assigned)

    def params(self) -> dict[str, Any]:
        return {"type_map": self.type_map}

    def params_json(self) -> dict[str, Any]:
        return {"type_map": {key: t.to_json() for key, t in self.type_map.items()}}

    def __repr__(self) -> str:
        return repr(self.type_map)


class _NDArray(_Type):
    wb_type = "ndarray"

    def __init__(self, shape: list[int]) -> None:
        self.shape = shape

    @classmethod
    def of(cls, value: Any) -> _NDArray:
        if not isinstance(value, list):
            return cls([int(size) for size in value.shape])
        shape = []
        target: Any = value
        while isinstance(target, list):
            shape.append(len(target))
            if not target:
                break
            target = target[0]
        return cls(shape)

    def assign(self, value: Any) -> _Type:
        if _is_ndarray(value) or isinstance(value, list):
            return self.assign_type(_NDArray.of(value))
        return INVALID

    def assign_type(self, other: _Type) -> _Type:
        if isinstance(other, _NDArray) and other.shape == self.shape:
            return self
        return self if isinstance(other, _List) else INVALID

    def params(self) -> dict[str, Any]:
        return {"shape": self.shape}

    def params_json(self) -> dict[str, Any]:
        return {"shape": self.shape, "serialization_path": None}


class _Union(_Type):
    wb_type = "union"

    allowed: list[_Type]

    def __init__(self, allowed: Iterable[_Type]) -> None:
        flat: list[_Type] = []
        for member in allowed:
            flat.extend(member.allowed if isinstance(member, _Union) else [member])
        flat.sort(key=repr)
        self.allowed = flat

    def assign(self, value: Any) -> _Type:
        resolved = _union_assign(self.allowed, value, by_type=False)
        return INVALID if resolved is None else _Union(resolved)

    def assign_type(self, other: _Type) -> _Type:
        resolved: list[_Type] | None = self.allowed
        for member in other.allowed if isinstance(other, _Union) else [other]:
            assert resolved is not None
            resolved = _union_assign(resolved, member, by_type=True)
            if resolved is None:
                return INVALID
        assert resolved is not None
        return _Union(resolved)

    def params(self) -> dict[str, Any]:
        return {"allowed_types": self.allowed}

    def params_json(self) -> dict[str, Any]:
        return {"allowed_types": [member.to_json() for member in self.allowed]}

    def __repr__(self) -> str:
        return " or ".join(map(repr, self.allowed))


def _union_assign(
    allowed: list[_Type], value: Any, by_type: bool
) -> list[_Type] | None:
    """The members after a value (or type): the first member that takes it
    changes; if none does, an unknown member becomes its type. None when no
    member can take it.
    """
    resolved: list[_Type] = []
    taken = False
    unknowns = 0
    for member in allowed:
        if taken:
            resolved.append(member)
        elif isinstance(member, _Unknown):
            unknowns += 1
        else:
            assigned = member.assign_type(value) if by_type else member.assign(value)
            taken = not isinstance(assigned, _Invalid)
            resolved.append(assigned if taken else member)
    if not taken:
        if not unknowns:
            return None
        new = value if by_type else UNKNOWN.assign(value)
        if isinstance(new, _Invalid):
            return None
        resolved.append(new)
        unknowns -= 1
    resolved.extend([UNKNOWN] * unknowns)
    return resolved


NONE = _Named("none")
STRING = _Named("string")
NUMBER = _Named("number")
BOOLEAN = _Named("boolean")
INVALID = _Invalid()
ANY = _AnyType()
UNKNOWN = _Unknown()
OPTIONAL_UNKNOWN = _Union([UNKNOWN, NONE])
OPTIONAL_ANY = _Union([ANY, NONE])


def type_of(value: Any) -> _Type:
    """The type of one value, as the official client infers it.

    Raises:
        ValueTypeError: a table cannot hold the value (see ``_unsupported``).
    """
    cls = type(value)
    if cls is float:
        return NONE if value != value else NUMBER
    if cls is int:
        return NUMBER
    if cls is str:
        return STRING
    if value is None:
        return NONE
    if cls is bool:
        return BOOLEAN
    if cls is list or cls is tuple:
        return _List.of(value)
    if cls is dict:
        _check_keys(value)
        return _Dict.of(value)
    if cls.__module__ == "numpy":
        return _numpy_type(value)
    if getattr(cls, "_wandb_core_table_cell", None) is not None:
        describe = getattr(value, "_wandb_core_table_type", None)
        if describe is not None:
            return _Described(describe())
        return _PythonObject(cls.__name__)
    raise _unsupported(value)


def _numpy_type(value: Any) -> _Type:
    if _is_ndarray(value):
        if value.dtype.kind not in "biufU":
            raise _unsupported(value)
        return _NDArray.of(value)
    kind = getattr(getattr(value, "dtype", None), "kind", "")
    if kind in "iuf" and kind:
        _SCALAR_KINDS[type(value)] = int(_fast.table.KIND_NUMBER)
        return NUMBER
    if kind == "b":
        _SCALAR_KINDS[type(value)] = int(_fast.table.KIND_BOOLEAN)
        return BOOLEAN
    if kind == "U":
        return _PythonObject(type(value).__name__)
    raise _unsupported(value)


# numpy scalar classes met so far, as numbers or booleans: the twins' type
# checks take their values without the type algebra.
_SCALAR_KINDS: dict[type, int] = {}


def _is_ndarray(value: Any) -> bool:
    return type(value).__name__ == "ndarray" and type(value).__module__ == "numpy"


def _check_keys(value: dict[Any, Any]) -> None:
    kinds = {type(key) for key in value}
    if kinds <= {str} or kinds <= {int}:
        return
    msg = (
        f"A dict in a table cell has keys {list(value)[:5]!r}; its keys must be "
        "all strings or all ints, as the artifact's JSON sorts them."
    )
    raise ValueTypeError(msg)


def _unsupported(value: Any) -> ValueTypeError:
    cls = type(value)
    # TODO: datetimes, sets, complex numbers and other objects (which the
    # official client writes in ways of its own) are refused for now.
    msg = (
        f"A table cell cannot hold {_short_repr(value)} of type "
        f"{cls.__module__}.{cls.__qualname__}; cells hold numbers, strings, "
        "booleans, None, lists and dicts of them, numpy scalars and 1-d arrays, "
        "Images and Histograms."
    )
    return ValueTypeError(msg)


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 3] + "..."


def _kind_of(column_type: _Type) -> int:
    """The ``_fast`` kind of a column type: which plain cells fit as they are."""
    twin = _fast.table
    if column_type is NUMBER:
        return int(twin.KIND_NUMBER)
    if column_type is STRING:
        return int(twin.KIND_STRING)
    if column_type is BOOLEAN:
        return int(twin.KIND_BOOLEAN)
    if isinstance(column_type, _Union) and len(column_type.allowed) == 2:
        first, second = column_type.allowed
        if second is NONE and first is BOOLEAN:
            return int(twin.KIND_BOOLEAN_OPTIONAL)
        if first is NONE and second is NUMBER:
            return int(twin.KIND_NUMBER_OPTIONAL)
        if first is NONE and second is STRING:
            return int(twin.KIND_STRING_OPTIONAL)
        if first is ANY and second is NONE:
            return int(twin.KIND_ANY)
    return int(twin.KIND_GENERIC)


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------


class Table:
    """A table of rows, logged as a W&B Table (``wandb.Table``).

    Columns hold numbers, strings, booleans, None (and NaN, which counts as
    None), lists and dicts of them, numpy scalars and 1-d arrays of at most
    150 numbers, Images and Histograms. Each column keeps to one type: a
    column that held numbers takes no string, unless the table was made
    with ``allow_mixed_types=True``.

    Attributes:
        columns: The column names (strings or ints).
        data: The rows, each a list with one value per column.
    """

    MAX_ROWS = 10000
    MAX_ARTIFACT_ROWS = 200000

    def __init__(
        self,
        columns: Sequence[str | int] | None = None,
        data: Any = None,
        dataframe: Any = None,
        allow_mixed_types: bool = False,
    ) -> None:
        """Make a table from rows, a 2-d numpy array or a pandas DataFrame.

        Args:
            columns: Column names; ``["Input", "Output", "Expected"]`` when
                omitted. Ignored when the data is a DataFrame.
            data: The rows: a list of sequences, a 2-d numpy array or a
                pandas DataFrame.
            dataframe: A pandas DataFrame; its columns and rows are used.
            allow_mixed_types: Whether a column may hold values of
                different types.

        Raises:
            ValueTypeError: a cell does not fit its column (the message names
                the row, the column and both types), or cannot be logged.
            ValueValueError: a row's length is not the number of columns.
        """
        frame = dataframe if dataframe is not None else data
        if _is_dataframe(frame):
            columns = list(frame.columns)
            rows = _dataframe_rows(frame)
        else:
            if dataframe is not None:
                msg = (
                    f"Table(dataframe=...) takes a pandas DataFrame, not a "
                    f"{type(dataframe).__name__}."
                )
                raise ValueTypeError(msg)
            columns = list(DEFAULT_COLUMNS) if columns is None else columns
            rows = [] if data is None else _rows_of(data)
        self.columns: list[str | int] = _checked_columns(columns)
        self.data: list[list[Any]] = rows
        start = OPTIONAL_ANY if allow_mixed_types else OPTIONAL_UNKNOWN
        self._types: list[_Type] = [start] * len(self.columns)
        self._kinds: list[int] = [_kind_of(start)] * len(self.columns)
        self._logged: tuple[Run, dict[str, Any]] | None = None
        self._warned = False
        _fast.table.check_rows(
            self._kinds, self.data, 0, self._slow_check, _SCALAR_KINDS
        )

    def __repr__(self) -> str:
        return f"<Table {len(self.columns)} columns x {len(self.data)} rows>"

    def add_data(self, *row: Any) -> None:
        """Add a row: one value per column.

        Raises:
            ValueTypeError: a value does not fit its column; the table is
                left as it was.
            ValueValueError: the number of values is not the number of columns.
        """
        self._warn_if_logged()
        types = list(self._types)
        kinds = list(self._kinds)
        self.data.append(list(row))
        try:
            _fast.table.check_rows(
                self._kinds,
                self.data,
                len(self.data) - 1,
                self._slow_check,
                _SCALAR_KINDS,
            )
        except BaseException:
            self.data.pop()
            self._types[:] = types
            self._kinds[:] = kinds
            raise

    def add_column(
        self, name: str, data: Iterable[Any], optional: bool = False
    ) -> None:
        """Add a column of values, one per row.

        Args:
            name: The new column's name, not used yet.
            data: Its values, as a list or numpy array.
            optional: Whether the column takes None (and NaN); as in the
                official client, it does not by default.

        Raises:
            ValueValueError: the name is taken, or the number of values is
                not the number of rows.
            ValueTypeError: the values do not share one type.
        """
        if not isinstance(name, str) or name in self.columns:
            msg = (
                f"Column name {name!r} is not a new string; the table has "
                f"{self.columns!r}."
            )
            raise ValueValueError(msg)
        values = list(data)
        if self.columns and len(values) != len(self.data):
            msg = (
                f"Column {name!r} has {len(values)} values, but the table has "
                f"{len(self.data)} rows."
            )
            raise ValueValueError(msg)
        self._warn_if_logged()
        column_type: _Type = OPTIONAL_UNKNOWN if optional else UNKNOWN
        for index, value in enumerate(values):
            column_type = self._assigned(column_type, index, name, value)
        if self.columns:
            for row, value in zip(self.data, values):
                row.append(value)
        else:
            self.data = [[value] for value in values]
        self.columns.append(name)
        self._types.append(column_type)
        self._kinds.append(_kind_of(column_type))

    def get_column(self, name: str | int, convert_to: str | None = None) -> Any:
        """The values of a column, as a list or (``convert_to="numpy"``) an array.

        Raises:
            ValueValueError: there is no such column, or ``convert_to`` is
                neither None nor ``"numpy"``.
        """
        if name not in self.columns:
            msg = f"The table has no column {name!r}; its columns are {self.columns!r}."
            raise ValueValueError(msg)
        if convert_to not in (None, "numpy"):
            msg = f"get_column() converts to 'numpy' or nothing, not {convert_to!r}."
            raise ValueValueError(msg)
        index = self.columns.index(name)
        values = [row[index] for row in self.data]
        if convert_to is None:
            return values
        import numpy

        return numpy.array(values)

    # -- type checks -----------------------------------------------------------------

    def _slow_check(self, row: int, column: int, value: Any) -> int:
        """A cell the column kind cannot decide: the full type algebra."""
        if column < 0:
            msg = (
                f"Row {row} of the table has {len(value)} values, but the table "
                f"has {len(self.columns)} columns {self.columns!r}."
            )
            raise ValueValueError(msg)
        name = self.columns[column]
        assigned = self._assigned(self._types[column], row, name, value)
        self._types[column] = assigned
        return _kind_of(assigned)

    def _assigned(self, column_type: _Type, row: int, name: Any, value: Any) -> _Type:
        _check_cell(value, row, name)
        assigned = column_type.assign(value)
        if not isinstance(assigned, _Invalid):
            return assigned
        msg = (
            f"Row {row} does not fit column {name!r} of the table: "
            f"{_short_repr(value)} is {type_of(value)!r}, and the column holds "
            f"{column_type!r} (pass allow_mixed_types=True to mix types)."
        )
        raise ValueTypeError(msg)

    def _warn_if_logged(self) -> None:
        if self._logged is not None and not self._warned:
            self._warned = True
            _term.warn(
                "A table changed after it was logged; as in the official client, "
                "logging it again logs it as it was when first logged."
            )

    # -- logging -----------------------------------------------------------------------

    def _wandb_core_log_value(
        self, run: Run, path: Path, step: int | str
    ) -> dict[str, Any]:
        """Write the table's files and artifact; its reference object."""
        if self._logged is None or self._logged[0] is not run:
            self._logged = (run, _log_table(self, run, path[-1], step))
        reference = dict(self._logged[1])
        reference["ncols"] = len(self.columns)
        reference["nrows"] = len(self.data)
        return reference

    def _column_types_json(self) -> str:
        """The ``column_types`` of the artifact's table file, as JSON text.

        As ``json.dumps(..., sort_keys=True)`` writes it; the usual column
        types have their text ready.
        """
        texts = {}
        for name, column_type, kind in zip(self.columns, self._types, self._kinds):
            text = _kind_json().get(kind)
            if text is None:
                embedding = _embedding_length(column_type)
                if embedding is not None:
                    column_type = _List(NUMBER, embedding)
                text = json.dumps(column_type.to_json(), sort_keys=True)
            texts[name] = text
        type_map = ", ".join(
            f"{json.dumps(str(name))}: {texts[name]}" for name in _sorted_names(texts)
        )
        return '{"params": {"type_map": {' + type_map + '}}, "wb_type": "typedDict"}'


def _sorted_names(texts: dict[Any, str]) -> list[Any]:
    """Column names in ``sort_keys`` order; str and int names do not mix."""
    try:
        return sorted(texts)
    except TypeError:
        msg = (
            f"Table columns {list(texts)!r} mix strings and ints, which cannot be "
            "sorted for the artifact's column types (nor by the official client)."
        )
        raise ValueTypeError(msg) from None


def _kind_json() -> dict[int, str]:
    """The JSON text of the column types that a plain kind stands for."""
    global _kind_json_texts
    if _kind_json_texts is None:
        _kind_json_texts = _kind_texts()
    return _kind_json_texts


_kind_json_texts: dict[int, str] | None = None


def _kind_texts() -> dict[int, str]:
    twin = _fast.table
    types = {
        twin.KIND_NUMBER: NUMBER,
        twin.KIND_STRING: STRING,
        twin.KIND_BOOLEAN: BOOLEAN,
        twin.KIND_NUMBER_OPTIONAL: _Union([NUMBER, NONE]),
        twin.KIND_STRING_OPTIONAL: _Union([STRING, NONE]),
        twin.KIND_BOOLEAN_OPTIONAL: _Union([BOOLEAN, NONE]),
        twin.KIND_ANY: OPTIONAL_ANY,
    }
    return {
        int(kind): json.dumps(column_type.to_json(), sort_keys=True)
        for kind, column_type in types.items()
    }


def _embedding_length(column_type: _Type) -> int | None:
    """The length of a column of 1-d arrays, which the artifact lists as numbers."""
    members = column_type.allowed if isinstance(column_type, _Union) else [column_type]
    arrays = [member for member in members if isinstance(member, _NDArray)]
    if not arrays:
        return None
    shape = arrays[-1].shape
    if len(shape) == 1 and shape[0] <= MAX_EMBEDDING_LENGTH:
        return shape[0]
    return None


def _check_cell(value: Any, row: int, name: Any) -> None:
    """Refuse top-level cells that the official client stores elsewhere."""
    if _is_ndarray(value) and (value.ndim != 1 or len(value) > MAX_EMBEDDING_LENGTH):
        # TODO: the official client writes such arrays to an .npz file of
        # the artifact; until we do, they are refused.
        msg = (
            f"Row {row}, column {name!r} of the table holds a numpy array of "
            f"shape {tuple(value.shape)}; cells hold 1-d arrays of at most "
            f"{MAX_EMBEDDING_LENGTH} values (use .tolist() for others)."
        )
        raise ValueTypeError(msg)


def _checked_columns(columns: Any) -> list[str | int]:
    if isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence):
        msg = f"Table columns must be a list of names, not {type(columns).__name__}."
        raise ValueTypeError(msg)
    names = list(columns)
    for name in names:
        if type(name) not in (str, int):
            kind = type(name).__name__
            msg = f"Table column name {name!r} is a {kind}; use str or int."
            raise ValueTypeError(msg)
    return names


def _rows_of(data: Any) -> list[list[Any]]:
    if isinstance(data, (str, bytes, dict)) or not hasattr(data, "__iter__"):
        msg = f"Table data must be a list of rows, not {type(data).__name__}."
        raise ValueTypeError(msg)
    rows: list[list[Any]] = []
    for row in data:
        if isinstance(row, (str, bytes, dict)) or not hasattr(row, "__iter__"):
            msg = f"Table row {len(rows)} is a {type(row).__name__}, not a sequence."
            raise ValueTypeError(msg)
        rows.append(list(row))
    return rows


def _is_dataframe(value: Any) -> bool:
    cls = type(value)
    return cls.__name__ == "DataFrame" and cls.__module__.startswith("pandas")


def _dataframe_rows(frame: Any) -> list[list[Any]]:
    """Rows of a DataFrame with the values its columns' arrays hold."""
    arrays = [frame[name].values for name in frame.columns]
    return (
        [list(row) for row in zip(*arrays)]
        if arrays
        else [[] for _ in range(len(frame))]
    )


# ---------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------


class _Cells:
    """Cell objects (Images, Histograms) as a logged table writes them."""

    def __init__(self, run: Run, key: str) -> None:
        self._run = run
        self._key = key
        self._cells: dict[int, tuple[Any, dict[str, Any]]] = {}
        # (entry path, bytes) of each cell's file (an Image's picture).
        self.files: list[tuple[str, bytes]] = []

    def _cell(self, value: Any) -> dict[str, Any]:
        known = self._cells.get(id(value))
        if known is None:
            cell, files = value._wandb_core_table_cell(self._run, self._key)
            known = self._cells[id(value)] = (value, cell)
            self.files.extend(files)
        return known[1]

    def artifact(self, value: Any) -> Any:
        """``convert`` for the artifact's file: a cell object's JSON."""
        if getattr(type(value), "_wandb_core_table_cell", None) is not None:
            return self._cell(value)
        return _plain_value(value)

    def media(self, value: Any) -> Any:
        """``convert`` for the run's media file: media files by class name."""
        if getattr(type(value), "_wandb_core_table_cell", None) is not None:
            cell = self._cell(value)
            return type(value).__name__ if "path" in cell else cell
        return _plain_value(value)


def _plain_value(value: Any) -> Any:
    """numpy scalars and arrays as Python values, as both files hold them."""
    if _is_ndarray(value):
        return value.tolist()
    kind = getattr(getattr(value, "dtype", None), "kind", "")
    if type(value).__module__ == "numpy" and kind:
        if kind == "f":
            return float(value)
        if kind in "iu":
            return int(value)
        if kind == "b":
            return bool(value)
        if kind == "U":
            return str(value)
    raise _unsupported(value)


def _log_table(table: Table, run: Run, key: str, step: int | str) -> dict[str, Any]:
    cells = _Cells(run, key)
    artifact_rows = min(len(table.data), Table.MAX_ARTIFACT_ROWS)
    if len(table.data) > Table.MAX_ARTIFACT_ROWS:
        _term.warn(
            f"Table {key!r} has {len(table.data)} rows; its artifact keeps the "
            f"first {Table.MAX_ARTIFACT_ROWS}, as the official client's does."
        )
    artifact_file = _artifact_file(table, artifact_rows, cells.artifact)
    media_rows = min(len(table.data), Table.MAX_ROWS)
    media_file, sha256 = _media_file(table, media_rows, cells.media)

    name = f"{_upload_safe(key)}_{step}_{sha256[:HASH_PREFIX]}.table.json"
    relative = posixpath.join(MEDIA_SUBDIR, name)
    media_io.write_soon(
        run,
        os.path.join(run.dir, *relative.split("/")),
        media_file,
        what=f"the file of table {key!r}",
    )
    run.add_media_file(relative)

    entry_path = _with_suffix(key)
    client_id, sequence_client_id = _log_artifact(
        run, key, entry_path, artifact_file, cells
    )
    return {
        "_type": LOG_TYPE,
        "sha256": sha256,
        "size": len(media_file),
        "artifact_path": f"wandb-client-artifact://{client_id}/{entry_path}",
        "_latest_artifact_path": (
            f"wandb-client-artifact://{sequence_client_id}:latest/{entry_path}"
        ),
        "path": relative,
        "ncols": len(table.columns),
        "nrows": len(table.data),
        "log_mode": LOG_MODE,
    }


def _media_file(
    table: Table, count: int, convert: Callable[[Any], Any]
) -> tuple[bytes, str]:
    try:
        data, sha256 = _fast.table.table_file(table.columns, table.data, count, convert)
    except UnicodeEncodeError:
        # A lone surrogate: the official client's encoder refuses it and
        # falls back to json.dumps, whose text we then write too.
        logger.debug("table media file written by json.dumps (lone surrogates)")
        plain = {
            "columns": table.columns,
            "data": [
                [_deep_plain(cell, convert) for cell in row]
                for row in table.data[:count]
            ],
        }
        data = json.dumps(plain).encode("utf-8")
        sha256 = hashlib.sha256(data).hexdigest()
    return data, sha256


def _deep_plain(value: Any, convert: Callable[[Any], Any]) -> Any:
    cls = type(value)
    if cls in (str, int, float, bool) or value is None:
        return value
    if cls is list or cls is tuple:
        return [_deep_plain(item, convert) for item in value]
    if cls is dict:
        return {key: _deep_plain(item, convert) for key, item in value.items()}
    if isinstance(value, float):
        return float(value)
    return _deep_plain(convert(value), convert)


def _artifact_file(table: Table, count: int, convert: Callable[[Any], Any]) -> bytes:
    """The artifact's table file, as ``json.dump(..., sort_keys=True)`` writes it."""
    twin = _fast.table
    rows = twin.encode_rows(table.data, count, twin.ARTIFACT, convert)
    column_types = table._column_types_json()
    return b"".join(
        (
            b'{"_type": "table", "column_types": ',
            column_types.encode("ascii"),
            b', "columns": ',
            json.dumps(table.columns).encode("ascii"),
            b', "data": ',
            rows,
            f', "log_mode": "{LOG_MODE}", "ncols": {len(table.columns)}, '
            f'"nrows": {count}}}'.encode("ascii"),
        )
    )


def artifact_files(
    table: Table, holder: Any, name: str
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """A table's file in an artifact and the files of its cells (images).

    ``holder`` is the run or an artifact (cells ask it nothing yet). Returns
    the bytes of the ``.table.json`` file and ``(entry path, bytes)`` pairs.
    """
    cells = _Cells(holder, name)
    count = min(len(table.data), Table.MAX_ARTIFACT_ROWS)
    return _artifact_file(table, count, cells.artifact), cells.files


def _log_artifact(
    run: Run, key: str, entry_path: str, table_file: bytes, cells: _Cells
) -> tuple[str, str]:
    """Stage the artifact's files and write its record; its two client ids.

    The staged files are written on the writer thread, before the record.
    """
    manifest = Manifest()
    for path, data in [(entry_path, table_file), *cells.files]:
        if path in manifest:
            continue
        staged = artifacts.new_staged_path()
        manifest.add(ManifestEntry.from_bytes(path, data, staged))
        media_io.write_soon(
            run, staged, data, read_only=True, what=f"a staged file of table {key!r}"
        )
    client_id = artifacts.new_client_id()
    sequence_client_id = artifacts.new_client_id()
    run.write_record(
        records.artifact(
            run_id=run.id,
            project=run.project,
            entity=run.entity,
            artifact_type=ARTIFACT_TYPE,
            name=artifacts.sanitize_name(f"run-{run.id}-{key}"),
            digest=manifest.digest(),
            client_id=client_id,
            sequence_client_id=sequence_client_id,
            manifest_entries=manifest.record_entries(),
            storage_policy=manifest.storage_policy,
            storage_policy_config=manifest.storage_policy_items(),
            digest_algorithm=artifacts.DIGEST_ALGORITHM,
        )
    )
    return client_id, sequence_client_id


def _with_suffix(key: str) -> str:
    suffix = "table.json"
    return key if key.endswith(suffix) else f"{key}.{suffix}"


def _upload_safe(key: str) -> str:
    """The key as a relative path: no leading ``/``, no ``.`` or ``..`` parts."""
    parts = key.lstrip("/").split("/")
    return "/".join(
        part.replace(".", "_") if part in (".", "..") else part for part in parts
    )
