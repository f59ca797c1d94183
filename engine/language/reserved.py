"""The names the engine writes into a history as itself, which no process or person may use.

Timer events (warnings, breaches, escalation steps, recomputed deadlines) are recorded with the actor
``ENGINE_ACTOR`` in the role ``ENGINE_ROLE``. A process that declared a role of that name, or a person
acting under that id, would read in the history as the engine; both are refused, so an event by
``ENGINE_ACTOR`` is always the engine's. ``runtime.decide`` writes these same values.
"""

from __future__ import annotations

ENGINE_ACTOR = "complaintflow"
ENGINE_ROLE = "system"
RESERVED_ROLES = frozenset({ENGINE_ROLE, ENGINE_ACTOR})
RESERVED_ACTORS = frozenset({ENGINE_ACTOR})
# The service gives a user the role ``manager`` across every process: they read every case and the report
# and act on none (engine/service/auth.py). A process that declared a role of that name would let them act.
SERVICE_ROLES = frozenset({"manager"})
