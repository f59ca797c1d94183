"""The fuzz suite that stays (issue 14, item 6), fast enough for CI.

Two properties over documents from ``mutations`` (mutated shipped processes and grammar-built ones):
validation never raises, only reports; and a file that validates clean starts a case, and every
action offered and a tick up to 100 years ahead either succeed or are refused with a package error
(``exercise`` raises anything else). Examples that once failed are pinned with ``@example``.
bench/fuzz.py runs the same properties for longer and counts tracebacks, hangs and accepted-then-failing.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from complaintflow.language.check import check_bytes

from .exercise import YEAR, exercise
from .mutations import SHIPPED, any_process

CI = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
GENERAL = SHIPPED["general_affairs_dispatch"]


@CI
@given(any_process())
@example(GENERAL.replace(b"within: 10m", b"within: 99999999999999999999m"))
@example(GENERAL.replace(b"within: 10m", b"within: 50000wh"))
@example(GENERAL.replace(b"version: 1", b"version: 18446744073709551616"))
@example(GENERAL.replace(b"Pass the complaint on within 10 minutes", b'"\\ud800"'))
@example(b"x: " + b"[" * 5000)
@example(GENERAL + b"extra: " + b"[" * 3000 + b"\n")  # found by bench/fuzz.py: PyYAML re-read it in 2 s
def test_validation_reports_and_never_raises(raw: bytes) -> None:
    check_bytes(raw, "fuzzed.yaml")


@CI
@given(any_process(), st.integers(0, 100 * YEAR))
@example(GENERAL.replace(b"within: 10m", b"within: 10000000000h"), 100 * YEAR)
@example(GENERAL, 0)
@example(GENERAL.replace(b"version: 1", b"version: 4611686018427387904"), 0)  # fits SQLite, not RFC 8785
@example(GENERAL.replace(b"version: 1", b"version: 9007199254740991"), 0)  # 2^53 - 1, the largest that runs
@example(GENERAL.replace(b"within: 10m", b"within: 62151wd"), 0)  # found by bench/fuzz.py: clean, then no start
def test_a_file_that_validates_clean_runs(raw: bytes, tick_after: int) -> None:
    outcome = exercise(raw, tick_offsets=(3600, tick_after))
    assert outcome.started or not outcome.clean
