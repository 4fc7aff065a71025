"""A pydantic base for user-written files: unknown keys are refused with a suggestion, and numbers
are numbers.

Pydantic's lax mode turns ``true`` into 1 and the text ``"78"`` into 78 without a word, and reports
NaN as "should be less than or equal to 1". Every ``Strict`` model (and every model nested in one)
instead refuses, wherever an ``int`` or ``float`` is expected (a field, a list item, a mapping's
value, a tuple's member): a yes/no value, text, a float with a fractional part where a whole number
is expected, NaN and infinities ("must be a finite number"), and integers too large for the model's
arrays. An int is still accepted where a float is expected, and a YAML list where a tuple is.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, model_validator
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

MAX_INT = 2**63 - 1
"""Largest whole number accepted (the model's arrays hold 64-bit integers)."""
MAX_FLOAT = 1e300
"""Largest integer accepted where a float is expected (a float holds up to about 1.8e308)."""
_MARK = "common.strict.numbers"
_SKIP = ("default", "metadata", "serialization", "expected", "ref_schema_info")


def _refuse(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, "{message}", {"message": message})


def number_problem(value: Any, whole: bool, finite: bool = True) -> PydanticCustomError | None:
    """Why ``value`` is not a number where one is expected (a whole number if ``whole``; NaN and
    infinities refused if ``finite``), or None."""
    what = "a whole number" if whole else "a number"
    if isinstance(value, bool):
        return _refuse("number_type", f"must be {what}, got {str(value).lower()} (a yes/no value)")
    if isinstance(value, (str, bytes)):
        text = value if isinstance(value, str) else value.decode("utf-8", "replace")
        shown = repr(text if len(text) <= 40 else text[:40] + "...")
        return _refuse("number_type", f"must be {what}, got the text {shown}"
                       + (" (write numbers without quotes)" if _looks_numeric(text) else ""))
    if isinstance(value, float) and not math.isfinite(value):
        return _refuse("finite_number", f"must be a finite number, got {value}") if finite or whole else None
    if whole and isinstance(value, float) and not value.is_integer():
        return _refuse("int_fraction", f"must be a whole number, got {value}")
    if isinstance(value, (int, float)) and abs(value) > (MAX_INT if whole else MAX_FLOAT):
        size = f"about {'-' if value < 0 else ''}10^{int(math.log10(abs(value)))}"
        return _refuse("number_too_large", f"must be a number of ordinary size, got {size}; allowed: at most "
                       f"{'2^63 - 1' if whole else '1e300'} in absolute value")
    return None


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _checker(whole: bool, finite: bool):
    def check(value: Any) -> Any:
        problem = number_problem(value, whole, finite)
        if problem is not None:
            raise problem
        return value
    return check


def strict_numbers(schema: Any, finite: bool = True) -> Any:
    """``schema`` (a pydantic core schema) with every int and float schema in it preceded by
    ``number_problem``'s check: applied once per model by ``Strict``, for all its fields. The float
    members of a tuple (bounds) may be non-finite here: the field's own validator names which bound
    is not finite."""
    if isinstance(schema, list):
        return [strict_numbers(s, finite) for s in schema]
    if not isinstance(schema, dict):
        return schema
    inner = finite and schema.get("type") != "tuple"
    out = {k: (v if k in _SKIP else strict_numbers(v, inner)) for k, v in schema.items()}
    if out.get("type") in ("int", "float") and not out.get("metadata", {}).get(_MARK):
        out["metadata"] = {**out.get("metadata", {}), _MARK: True}
        return core_schema.no_info_before_validator_function(_checker(out["type"] == "int", finite), out)
    return out


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return strict_numbers(handler(source))

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = set(cls.model_fields)
            allowed |= {f.alias for f in cls.model_fields.values() if f.alias}
            unknown = [k for k in data if k not in allowed]
            if unknown:
                msgs = []
                for key in unknown:
                    close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    msgs.append(f"unknown key '{key}'{hint}")
                raise ValueError("; ".join(msgs) + f"; allowed keys: {', '.join(sorted(allowed))}")
        return data


def each_once(values: list[str], what: str) -> list[str]:
    """A field validator's check that a list names each thing at most once (sweep outcomes, plan
    objectives): the repeated names and what is allowed."""
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        raise ValueError(f"{twice} appear more than once; allowed: each {what} once")
    return values
