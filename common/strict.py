"""A pydantic base for user-written files: unknown keys are refused with a suggestion."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

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
