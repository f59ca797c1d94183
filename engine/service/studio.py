"""The process owner's draft, judged before it is published: problems, diagram, changes and a what-if.

A draft is YAML that is not deployed. ``review`` gives what an editor beside it shows: the positioned
problems (the same as ``validate``), the Mermaid diagram when the draft builds, the semantic diff against
the deployed version of the same process id, and whether publishing would be accepted (no errors, and a
version above the deployed one). ``what_if`` runs the simulation's comparison, deployed against draft,
on the built-in scenario (seeded, so the same draft gives the same numbers). Nothing here writes to the
store: publishing is the ordinary deploy. The deployed version is the one of the caller's tenant.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ..language.check import check_bytes
from ..language.diagnostics import Severity
from ..language.diff import diff
from ..language.render import mermaid
from ..simulate import load_scenario, simulate_compare
from .desk import Desk, DeskError

MAX_WHAT_IF_CASES = 1000  # a request's simulation stays a few seconds long


def review(desk: Desk, tenant: str, raw: bytes, file: str) -> dict[str, Any]:
    spec, diagnostics = check_bytes(raw, file)
    problems = [d.to_json() for d in diagnostics]
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    out: dict[str, Any] = {
        "valid": not errors,
        "problems": problems,
        "mermaid": mermaid.render(spec) if spec is not None else None,  # drawn even while it has errors
        "deployed": None,
        "changes": [],
        "publishable": False,
        "why_not": None,
    }
    if spec is None or errors:
        out["why_not"] = f"the draft has {len(errors)} error(s): fix them first"
        return out
    deployed = desk.processes(tenant).get(spec.id)
    if deployed is None:
        out["publishable"] = True
        return out
    out["deployed"] = {"id": deployed.id, "version": deployed.version, "hash": deployed.content_hash}
    out["changes"] = [c.to_json() for c in diff(deployed, spec)]
    if spec.content_hash == deployed.content_hash:
        out["why_not"] = "the draft is the deployed version, byte for byte"
    elif spec.version <= deployed.version:
        out["why_not"] = f"raise the version above {deployed.version} (the deployed one) to publish"
    else:
        out["publishable"] = True
    return out


def what_if(desk: Desk, tenant: str, raw: bytes, file: str, *, cases: int, seed: int) -> dict[str, Any]:
    """The simulation's comparison of the deployed version (old) and the draft (new), as its JSON."""
    if not 1 <= cases <= MAX_WHAT_IF_CASES:
        raise DeskError(422, "invalid-request", f"cases must be 1 to {MAX_WHAT_IF_CASES}, got {cases}")
    spec, diagnostics = check_bytes(raw, file)
    errors = [d.to_json() for d in diagnostics if d.severity is Severity.ERROR]
    if spec is None or errors:
        raise DeskError(422, "invalid-process", f"{file}: the draft has errors", problems=errors)
    deployed = desk.processes(tenant).get(spec.id)
    if deployed is None:
        raise DeskError(404, "not-found", f"no deployed process {spec.id!r} to compare the draft with")
    source = desk.run(lambda: desk.engine.store.process(deployed.content_hash)).source
    with tempfile.TemporaryDirectory(prefix="complaintflow-what-if-") as folder:
        old, new = Path(folder) / "deployed.yaml", Path(folder) / "draft.yaml"
        old.write_bytes(source)
        new.write_bytes(raw)
        comparison = simulate_compare(old, new, load_scenario(None), cases, seed)
    result: dict[str, Any] = comparison.to_json()
    result["deployed"] = {"id": deployed.id, "version": deployed.version, "hash": deployed.content_hash}
    return result
