"""The long fuzz run of issue 14: N generated process files through validation and the runtime,
and M of them through ``complaintflow validate`` in a subprocess.

    .venv/bin/python bench/fuzz.py --examples 20000 --cli 300

Counts tracebacks (anything raised that is not a ComplaintflowError), hangs (an example over 2 s;
each is cut off after 20 s), and files accepted by validation that then fail to start a case or
raise while running. Failing inputs are written to bench/fuzz-findings/ to be pinned as regression
examples in tests/fuzz/test_fuzz.py.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, settings  # noqa: E402

from complaintflow.errors import ComplaintflowError  # noqa: E402
from tests.fuzz.exercise import exercise  # noqa: E402
from tests.fuzz.mutations import any_process  # noqa: E402

FINDINGS = ROOT / "bench" / "fuzz-findings"
HANG_SECONDS = 2.0
CUT_OFF_SECONDS = 20


class _CutOff(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _CutOff


def _keep(kind: str, raw: bytes, detail: str) -> None:
    FINDINGS.mkdir(exist_ok=True)
    name = f"{kind}-{hashlib.sha256(raw).hexdigest()[:12]}"
    (FINDINGS / f"{name}.yaml").write_bytes(raw)
    (FINDINGS / f"{name}.txt").write_text(detail, encoding="utf-8")


def run_in_process(examples: int) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    signal.signal(signal.SIGALRM, _alarm)

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(any_process())
    def one(raw: bytes) -> None:
        counts["examples"] += 1
        start = time.perf_counter()
        signal.alarm(CUT_OFF_SECONDS)
        try:
            outcome = exercise(raw)
            counts["validated clean" if outcome.clean else "refused by validate"] += 1
            counts["actions tried"] += outcome.actions_tried
        except _CutOff:
            counts["hangs"] += 1
            _keep("hang", raw, f"cut off after {CUT_OFF_SECONDS} s")
            return
        except ComplaintflowError as exc:  # validation was clean, then starting the case was refused
            counts["accepted then failing"] += 1
            _keep("accepted-then-failing", raw, str(exc))
        except BaseException:  # noqa: BLE001  (a traceback is exactly what we count)
            counts["tracebacks"] += 1
            _keep("traceback", raw, traceback.format_exc())
        finally:
            signal.alarm(0)
        if time.perf_counter() - start > HANG_SECONDS:
            counts["hangs"] += 1
            _keep("slow", raw, f"took {time.perf_counter() - start:.1f} s")

    one()
    return counts


def run_cli(files: int) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()

    @settings(max_examples=files, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(any_process())
    def one(raw: bytes) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "fuzzed.yaml"
            path.write_bytes(raw)
            try:
                done = subprocess.run(
                    [sys.executable, str(ROOT / "cli.py"), "validate", str(path)],
                    capture_output=True,
                    text=True,
                    timeout=CUT_OFF_SECONDS,
                )
            except subprocess.TimeoutExpired:
                counts["cli hangs"] += 1
                _keep("cli-hang", raw, "validate did not finish")
                return
        counts["cli files"] += 1
        if "Traceback" in done.stderr or done.returncode not in (0, 1, 2):
            counts["cli tracebacks"] += 1
            _keep("cli-traceback", raw, done.stderr)

    one()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=2000, help="files through validation and the runtime")
    parser.add_argument("--cli", type=int, default=0, help="files through 'complaintflow validate' (a process each)")
    args = parser.parse_args()
    start = time.perf_counter()
    counts = run_in_process(args.examples)
    if args.cli:
        counts += run_cli(args.cli)
    for key in ("tracebacks", "hangs", "accepted then failing", "cli tracebacks", "cli hangs"):
        counts.setdefault(key, 0)
    print(f"{time.perf_counter() - start:.0f} s")
    for key, value in sorted(counts.items()):
        print(f"{key:>24}: {value:,}")


if __name__ == "__main__":
    main()
