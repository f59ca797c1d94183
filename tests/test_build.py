"""The schema and the builder accept the same keys, and the builder turns a full document into a spec."""

from __future__ import annotations

from typing import Any

import pytest
from test_schema_file import FULL_EXAMPLE

from complaintflow.language.build import build_process
from complaintflow.language.check import check_bytes
from complaintflow.language.loader import load_bytes
from complaintflow.language.schema import schema


class _Recording(dict):
    """A dict that remembers which keys were read, so unread (ignored) keys can be found."""

    def __init__(self, data: dict[str, Any], path: tuple[str, ...], seen: set[tuple[str, ...]]):
        super().__init__({k: _wrap(v, path + (k,), seen) for k, v in data.items()})
        self._path, self._seen = path, seen

    def __getitem__(self, key: str) -> Any:
        self._seen.add(self._path + (key,))
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._seen.add(self._path + (key,))
        return super().get(key, default)

    def items(self):  # reading every entry reads every key
        for key in self:
            self._seen.add(self._path + (key,))
        return super().items()


def _wrap(value: Any, path: tuple[str, ...], seen: set[tuple[str, ...]]) -> Any:
    if isinstance(value, dict):
        return _Recording(value, path, seen)
    if isinstance(value, list):
        return [_wrap(v, path + ("[]",), seen) for v in value]
    return value


def _keys(value: Any, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            out.add(path + (key,))
            out |= _keys(item, path + (key,))
    elif isinstance(value, list):
        for item in value:
            out |= _keys(item, path + ("[]",))
    return out


def _schema_property_names(node: Any = None) -> set[str]:
    node = schema() if node is None else node
    names: set[str] = set()
    if isinstance(node, dict):
        names |= set(node.get("properties", {}))
        for value in node.values():
            names |= _schema_property_names(value)
    elif isinstance(node, list):
        for item in node:
            names |= _schema_property_names(item)
    return names


def test_the_full_example_uses_every_key_the_schema_defines():
    used = {path[-1] for path in _keys(load_bytes(FULL_EXAMPLE.encode()).data)}
    assert _schema_property_names() - used == set()


def test_the_builder_reads_every_key_of_a_schema_valid_document():
    raw = FULL_EXAMPLE.encode()
    process, problems = check_bytes(raw, "full.yaml")
    assert [p for p in problems if p.severity.value == "error"] == []
    doc = load_bytes(raw, "full.yaml")
    seen: set[tuple[str, ...]] = set()
    doc.data = _wrap(doc.data, (), seen)
    build_process(doc, raw)
    # Map-keyed ids (state names, role names...) are data, not keys of the language: compare key names only.
    ignored = {path[-1] for path in _keys(load_bytes(raw).data)} - {path[-1] for path in seen}
    assert ignored == set(), f"keys the schema accepts but the builder never reads: {sorted(ignored)}"


@pytest.mark.parametrize("key", ["unknown_key", "on"])
def test_a_key_the_builder_does_not_know_is_refused_by_the_schema(key):
    _, problems = check_bytes(FULL_EXAMPLE.encode() + f"{key}: 1\n".encode(), "full.yaml")
    assert [(p.rule, p.message) for p in problems if p.severity.value == "error"] == [
        ("schema", f"unknown key {key!r}")
    ]
