"""Request bodies and WebSocket messages checked against their JSON Schema, with an
error message that names the field and says what was expected."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ..notebooks.errors import InvalidRequest
from .schemas import Schema

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a JSON object",
    "array": "a list",
    "null": "null",
}

_validators: dict[int, Draft202012Validator] = {}


def parse_json(raw: bytes | str) -> Any:
    """The JSON document in ``raw``; a clear 400 when it is not one."""
    if not raw:
        raise InvalidRequest("the request needs a JSON body")
    try:
        document = json.loads(raw)
        # JSON lets "\ud800" through; such text can never be saved (UTF-8 refuses it).
        json.dumps(document, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise InvalidRequest(
            "the body has text that is not valid Unicode (a lone surrogate)"
        ) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidRequest(f"the body is not valid JSON: {error}") from None
    except RecursionError:  # "[[[[...": the decoder gives up (a 500 otherwise)
        raise InvalidRequest("the body is nested too deeply to be a request") from None
    return document


def validate(document: Any, schema: Schema) -> dict[str, Any]:
    """``document`` if it matches ``schema`` (an object schema), else InvalidRequest."""
    validator = _validators.get(id(schema))
    if validator is None:
        validator = _validators[id(schema)] = Draft202012Validator(schema)
    error = _first_error(validator, document)
    if error is not None:
        field = ".".join(str(part) for part in error.absolute_path) or None
        raise InvalidRequest(_describe(error, field), field=field or _missing_field(error))
    result: dict[str, Any] = document
    return result


def _first_error(validator: Draft202012Validator, document: Any) -> ValidationError | None:
    errors = sorted(validator.iter_errors(document), key=_priority)
    return errors[0] if errors else None


def _priority(error: ValidationError) -> tuple[int, int, str]:
    # A wrong top-level type first, then missing or unknown fields, then field values.
    order = {"type": 0, "required": 1, "additionalProperties": 2, "const": 3}
    return (len(error.absolute_path), order.get(str(error.validator), 9), str(error.path))


def _missing_field(error: ValidationError) -> str | None:
    """The field a "required" or "additionalProperties" error is about."""
    if error.validator == "required":
        return _quoted_name(error.message)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return extra[0] if extra else None
    return None


def _quoted_name(message: str) -> str | None:
    start = message.find("'")
    end = message.find("'", start + 1)
    return message[start + 1 : end] if start >= 0 and end > start else None


def _describe(error: ValidationError, field: str | None) -> str:
    kind = str(error.validator)
    expected: Any = error.validator_value
    where = f"field {field!r}" if field else "the body"
    if kind == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_TYPE_NAMES.get(name, name) for name in names)
        return f"{where} must be {wanted}, not {_json_type(error.instance)}"
    if kind == "required":
        return f"missing required field {_quoted_name(error.message)!r}"
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return f"unknown field {extra[0]!r}; expected one of: {', '.join(allowed)}"
    if kind == "enum":
        return f"{where} must be one of {', '.join(map(repr, expected))}"
    if kind == "const":
        return f"{where} must be {expected!r}"
    if kind == "maxLength":
        return f"{where} is too long (at most {expected} characters)"
    if kind == "minLength":
        return f"{where} must not be empty"
    if kind == "minimum":
        return f"{where} must be at least {expected}"
    return f"{where}: {error.message}"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
