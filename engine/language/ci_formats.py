"""Problems as CI systems read them: GitHub workflow-command annotations and SARIF 2.1.0.

``format_github`` gives one ``::error``/``::warning`` line per problem, which a GitHub Actions
step turns into an annotation on the file and line. ``format_sarif`` gives a SARIF 2.1.0 log
that code scanning shows inline on a pull request. Both are pure: diagnostics in, text out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from urllib.parse import quote

from .diagnostics import Diagnostic, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULES_DOC = "https://github.com/complaintflow/complaintflow/blob/main/docs/rules.md"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _full_message(d: Diagnostic) -> str:
    return f"{d.message}\nhint: {d.hint}" if d.hint else d.message


def format_github(diagnostics: Iterable[Diagnostic]) -> str:
    """One workflow command per problem: ``::error file=F,line=L,col=C,title=RULE::MESSAGE``."""
    lines = []
    for d in diagnostics:
        where = [f"file={_escape_property(d.file)}"]
        if d.line:
            where += [f"line={d.line}", f"col={d.col}"]
        where.append(f"title={_escape_property(d.rule)}")
        lines.append(f"::{d.severity.value} {','.join(where)}::{_escape_data(_full_message(d))}")
    return "\n".join(lines)


def _uri(file: str) -> str:
    path = PurePath(file)
    if path.is_absolute():
        return path.as_uri()
    return quote(path.as_posix())


def sarif_log(diagnostics: Iterable[Diagnostic], summaries: Mapping[str, str], version: str) -> dict[str, object]:
    """A SARIF 2.1.0 log with one run; ``summaries`` gives each rule id its one-line description."""
    found = list(diagnostics)
    rule_ids = sorted({d.rule for d in found})
    index = {rule: i for i, rule in enumerate(rule_ids)}
    results = []
    for d in found:
        location: dict[str, object] = {"artifactLocation": {"uri": _uri(d.file)}}
        if d.line:
            location["region"] = {"startLine": d.line, "startColumn": max(d.col, 1)}
        results.append(
            {
                "ruleId": d.rule,
                "ruleIndex": index[d.rule],
                "level": "error" if d.severity is Severity.ERROR else "warning",
                "message": {"text": _full_message(d)},
                "locations": [{"physicalLocation": location}],
            }
        )
    rules = [
        {"id": rule, "shortDescription": {"text": summaries.get(rule, rule)}, "helpUri": f"{RULES_DOC}#{rule}"}
        for rule in rule_ids
    ]
    driver = {"name": "complaintflow", "version": version, "informationUri": RULES_DOC, "rules": rules}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}


def format_sarif(diagnostics: Iterable[Diagnostic], summaries: Mapping[str, str], version: str) -> str:
    return json.dumps(sarif_log(diagnostics, summaries, version), ensure_ascii=False, indent=2)
