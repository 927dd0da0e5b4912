"""The words of a config problem: pydantic's error, said with its fix.

``describe`` turns one pydantic error into the message of a ``Problem``:
"did you mean `max_tier`?" for a misspelt key, "use YYYY-MM-DD" for a date
that is not one, "quote the checksum" where YAML read a checksum as a number.
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import re
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from .yamlsource import Loc

_ISO_LIKE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_EXAMPLE_DATE = "2027-12-31"


def describe(error: Any, model: type[BaseModel], plain: dict[Loc, str]) -> str:
    """One pydantic error as a message with the fix in words; ``plain`` is
    the source text of the document's unquoted scalars."""
    kind = str(error["type"])
    loc = tuple(error["loc"])
    value = error.get("input")
    if kind == "extra_forbidden":
        return unknown_key(model, loc)
    if kind == "missing":
        return "required key is missing"
    if value is None or value == []:
        expected = (error.get("ctx") or {}).get("expected")
        if expected:
            return f"empty: choose {expected}"
        return "empty: give at least one" if value == [] else "empty: fill it in"
    if kind.startswith(("date_", "datetime_")):
        return date_problem(value)
    if kind == "string_type" and loc in plain and isinstance(value, (bool, int, float)):
        return unquoted(loc, plain[loc], value)
    return str(error["msg"]).removeprefix("Value error, ")


def unknown_key(model: type[BaseModel], loc: Loc) -> str:
    allowed = keys_at(model, loc[:-1])
    if not allowed:
        return "unknown key"
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean `{close[0]}`?"
    return f"unknown key (known here: {', '.join(allowed)})"


def keys_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys the model allows in the mapping at ``loc`` (none when it is not a model)."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            if get_origin(annotation) is not list:
                return []
            annotation = get_args(annotation)[0]
            continue
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        fields = {f.alias or name: f for name, f in annotation.model_fields.items()}
        if part not in fields:
            return []
        annotation = fields[part].annotation
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [f.alias or name for name, f in annotation.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` -> X."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            others = [a for a in get_args(annotation) if a is not type(None)]
            if len(others) != 1:
                return annotation
            annotation = others[0]
        else:
            return annotation


def date_problem(value: Any) -> str:
    """Why ``value`` is not a date, and how to write one."""
    if isinstance(value, dt.datetime):
        return f"{value.isoformat(' ')} is a date and a time; give only the date as YYYY-MM-DD"
    text = str(value).strip()
    if match := _ISO_LIKE.match(text):
        year, month, day = (int(part) for part in match.groups())
        if not 1 <= month <= 12:
            return f"{text} is not a date: there is no month {month}; use YYYY-MM-DD"
        last = calendar.monthrange(year, month)[1]
        if not 1 <= day <= last:
            name = calendar.month_name[month]
            return f"{text} is not a date: {name} {year} has {last} days; use YYYY-MM-DD"
        return f"use YYYY-MM-DD: write {text} as {year:04}-{month:02}-{day:02}"
    if match := _DAY_FIRST.match(text):
        day, month, year = (int(part) for part in match.groups())
        try:
            dt.date(year, month, day)
        except ValueError:
            return f"{text} is not a date; use YYYY-MM-DD, e.g. {_EXAMPLE_DATE}"
        return f"use YYYY-MM-DD: write {text} as {year:04}-{month:02}-{day:02}"
    return f"{text!r} is not a date; use YYYY-MM-DD, e.g. {_EXAMPLE_DATE}"


def unquoted(loc: Loc, source: str, value: bool | int | float) -> str:
    """YAML read text as a number or a truth value: say so, and to quote it."""
    read_as = (
        f"true/false ({str(value).lower()})" if isinstance(value, bool) else f"the number {value}"
    )
    shown = source if len(source) <= 16 else f"{source[:6]}…{source[-4:]}"
    what = "the checksum" if loc and loc[-1] == "sha256" else "it"
    example = f': "{source}"' if len(source) <= 16 else ""
    return f"expected text, but YAML reads {shown} as {read_as}; quote {what}{example}"
