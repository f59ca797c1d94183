"""Check a loaded document against ``schemas/process.schema.json``.

The schema is the single description of the keys (editors use it too); this
module runs it with jsonschema and turns each error into a positioned
diagnostic a process owner can act on. The only home of ``jsonschema``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jsonschema_rs

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

from ..resources import schema_path
from .diagnostics import Diagnostic, did_you_mean
from .durations import explain_duration, explain_schedule
from .loader import Document

_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping of keys",
    "array": "a list",
    "null": "nothing",
}


@lru_cache(maxsize=4)
def schema(name: str = "process.schema.json") -> dict[str, Any]:
    with open(schema_path().parent / name, encoding="utf-8") as handle:
        return json.load(handle)  # type: ignore[no-any-return]


_NOTES = frozenset(
    {
        "description",
        "markdownDescription",
        "defaultSnippets",
        "default",
        "title",
        "examples",
        "enumDescriptions",
        "markdownEnumDescriptions",
        "$comment",
        "errorMessage",
    }
)


@lru_cache(maxsize=4)
def _validator(name: str) -> Draft202012Validator:
    """A validator over the schema with local ``$ref``s inlined: same verdicts, about twice as fast. Only a
    refused document needs it, so jsonschema (70 ms to import) loads only then."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_inlined(name))


@lru_cache(maxsize=4)
def _inlined(name: str) -> dict[str, Any]:
    """The schema with its local ``$ref``s written out in place (a recursive one stays a ref)."""
    original = schema(name)
    defs = original.get("$defs", {})

    def inline(node: Any, within: tuple[str, ...] = ()) -> Any:
        if isinstance(node, list):
            return [inline(item, within) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and ref not in within:  # a recursive ref stays a ref
            target = inline(defs[ref.removeprefix("#/$defs/")], within + (ref,))
            # Help text beside a $ref only annotates; anything else must hold as well.
            rest = {k: inline(v, within) for k, v in node.items() if k != "$ref" and k not in _NOTES}
            return {"allOf": [target], **rest} if rest else target
        return {k: inline(v, within) for k, v in node.items()}

    return inline(original)  # type: ignore[no-any-return]


@lru_cache(maxsize=4)
def _quick(name: str) -> Callable[[Any], bool]:
    """A yes/no answer from jsonschema-rs, which is about 150x faster than jsonschema's walk (0.07 against
    10.7 ms on service_desk.yaml); jsonschema runs only to explain a document this refuses, because its
    errors carry the paths and words the diagnostics are built from. "format" stays an annotation in both."""
    return jsonschema_rs.Draft202012Validator(_inlined(name), validate_formats=False).is_valid


def check_schema(doc: Document, name: str = "process.schema.json") -> list[Diagnostic]:
    """Positioned diagnostics for ``doc`` against ``schemas/<name>`` (any schema shipped there)."""
    if _quick(name)(doc.data):
        return []  # valid: jsonschema's slower walk is only needed to explain a refusal
    out: list[Diagnostic] = []
    for error in _validator(name).iter_errors(doc.data):
        out.extend(_explain(doc, error, name))
    return out


def _explain(doc: Document, error: ValidationError, name: str) -> list[Diagnostic]:
    path = tuple(error.absolute_path)
    kind = error.validator
    if "propertyNames" in error.schema_path and isinstance(error.instance, str):
        kind = "propertyNames"  # jsonschema reports a bad map key by the keyword that failed inside
    if kind == "oneOf" and not error.context:  # valid under more than one branch: keys that exclude each other
        return [
            doc.problem(
                path,
                "schema",
                f"{_show_path(path)}: give only one of these keys: {', '.join(_keys_in(error.validator_value))}",
            )
        ]
    if error.schema is False:  # a key the schema allows only in another case (e.g. values on a non-enum field)
        holder = _at(doc.data, path)
        if isinstance(holder, dict) and holder is not error.instance:  # jsonschema names the parent: find the key
            path += tuple(k for k, v in holder.items() if v is error.instance or v == error.instance)[:1]
        return [doc.problem(path, "schema", f"{path[-1]!r} is not allowed here", key=True, hint=_condition_hint(path))]
    if kind in ("oneOf", "anyOf") and error.context and all(e.validator == "required" for e in error.context):
        return [
            doc.problem(
                path,
                "schema",
                f"{_show_path(path)}: give one of these keys: {', '.join(_keys_in(error.validator_value))}",
                key=True,
            )
        ]
    if kind in ("oneOf", "anyOf") and error.context:
        # Report the branch that got furthest, unless the branches disagree on the kind of value.
        best = max(error.context, key=lambda e: (len(e.absolute_path), e.validator != "type"))
        if best.validator != "type" or len({e.validator for e in error.context}) == 1:
            return _explain(doc, best, name)
        wanted = sorted(
            {
                _TYPE_WORDS.get(str(e.validator_value), str(e.validator_value))
                for e in error.context
                if e.validator == "type"
            }
        )
        return [doc.problem(path, "schema", f"expected {' or '.join(wanted)}, got {_show(error.instance)}")]
    if kind == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extras = [k for k in error.instance if k not in allowed]
        return [
            doc.problem(
                path + (k,),
                "schema",
                f"unknown key {k!r}{_where(path)}",
                key=True,
                hint=_unknown_key_hint(k, allowed),
            )
            for k in extras
        ]
    if kind == "unevaluatedProperties":
        return [doc.problem(path, "schema", error.message)]
    if kind == "required":
        missing = str(error.message).split("'")[1]
        return [doc.problem(path, "schema", f"missing required key {missing!r}{_where(path)}", key=True)]
    if kind == "propertyNames":
        name = error.instance
        return [
            doc.problem(
                path + (name,),
                "schema",
                f"bad name {name!r}: use lower-case letters, digits and underscores, starting with a letter",
                key=True,
                hint=_identifier_hint(name),
            )
        ]
    if kind == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        words = " or ".join(_TYPE_WORDS.get(str(w), str(w)) for w in wanted)
        hint = ""
        if "boolean" in wanted and isinstance(error.instance, str):
            hint = "write true or false (yes/no/on/off are plain text here)"
        return [doc.problem(path, "schema", f"expected {words}, got {_show(error.instance)}", hint=hint)]
    if kind == "enum":
        choices = [str(c) for c in error.validator_value]
        return [
            doc.problem(
                path,
                "schema",
                f"{_show(error.instance)} is not one of: {', '.join(choices)}",
                hint=did_you_mean(str(error.instance), choices),
            )
        ]
    if kind == "pattern" and error.validator_value in _time_patterns(name):
        explain = explain_schedule if path and path[-1] == "every" else explain_duration
        message, hint = explain(error.instance)
        return [doc.problem(path, "schema", message, hint=hint)]
    if kind == "pattern" and error.validator_value == _identifier_pattern(name) and isinstance(error.instance, str):
        return [doc.problem(path, "schema", f"{error.instance!r} is not an id", hint=_identifier_hint(error.instance))]
    if kind == "pattern":
        return [
            doc.problem(
                path,
                "schema",
                f"{_show(error.instance)} is not in the expected form",
                hint=_example(error.schema) or f"expected to match {error.validator_value}",
            )
        ]
    if kind == "not":
        return [
            doc.problem(
                path,
                "schema",
                f"{_show_path(path)}: give only one of these keys: {', '.join(_keys_in(error.validator_value))}",
            )
        ]
    if kind in ("minItems", "minProperties"):
        return [doc.problem(path, "schema", f"{_show_path(path)} must not be empty")]
    return [doc.problem(path, "schema", str(error.message))]


@lru_cache(maxsize=4)
def _time_patterns(name: str) -> frozenset[str]:
    """The patterns of durations and schedules, whose mistakes get a message naming the accepted units."""
    defs = schema(name).get("$defs", {})
    return frozenset(defs[d]["pattern"] for d in ("duration", "budget", "schedule") if d in defs)


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _example(node: dict[str, Any]) -> str:
    """The example the schema's own help text gives ("示例 Example: `within: 2wd`"), as a hint."""
    text = str(node.get("markdownDescription", ""))
    if "Example: `" in text:
        return "for example " + text.split("Example: `", 1)[1].split("`", 1)[0]
    return ""


def _condition_hint(path: tuple[Any, ...]) -> str:
    if path and path[-1] == "values":
        return "values belong to fields of type: enum"
    if path and path[-1] == "reset_by":
        return "reset_by belongs to deadlines that repeat (every:)"
    return "remove it, or change the setting that rules it out"


def _keys_in(node: Any) -> list[str]:
    """Key names a sub-schema requires, for messages about mutually exclusive keys."""
    found: list[str] = []
    if isinstance(node, dict):
        found += [k for k in node.get("required", []) if k not in found]
        for value in node.values():
            found += [k for k in _keys_in(value) if k not in found]
    elif isinstance(node, list):
        for item in node:
            found += [k for k in _keys_in(item) if k not in found]
    return found


def _where(path: tuple[Any, ...]) -> str:
    return f" in {_show_path(path)}" if path else ""


def _show_path(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path) or "the file"


def _show(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing"
    return repr(value)


def _slug(name: Any) -> str:
    """An id close to ``name``: camelCase split at its capitals, other characters turned into '_'."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name))
    text = re.sub(r"_+", "_", "".join(c if c.isascii() and c.isalnum() else "_" for c in text.lower())).strip("_")
    return text if text[:1].isalpha() else f"x_{text}"


def _identifier_hint(name: Any) -> str:
    """A fix for a bad id; a name in Chinese (or any non-ASCII script) belongs in a title, not in the id."""
    text = str(name)
    if not text.isascii():
        return (
            f"ids use ASCII letters, digits and '_': give it an id in English or pinyin and keep {text!r} "
            f"as its title, as in <id>: {{title: {{zh: {text}}}}}"
        )
    return f"for example {_slug(text)!r}"


# Keys people write that the schema has no word for; the closest spelling would mislead.
_KEY_HINTS = {
    "when": 'a deadline says when with within: (a duration, e.g. 2wd), by: (a clock time, e.g. "17:00") '
    "or every: (a repeat, e.g. daily 17:00)",
}


def _unknown_key_hint(key: str, allowed: list[str]) -> str:
    if key in _KEY_HINTS and {"within", "by", "every"} <= set(allowed):
        return _KEY_HINTS[key]
    return did_you_mean(key, allowed) or f"allowed keys: {', '.join(allowed)}"


@lru_cache(maxsize=4)
def _identifier_pattern(name: str) -> str:
    return str(schema(name).get("$defs", {}).get("identifier", {}).get("pattern", ""))
