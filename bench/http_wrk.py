"""The HTTP benchmark with the load driven from outside Python: wrk (C, Debian's package) and a Lua script.

    .venv/bin/python bench/http_wrk.py                       # 1, 8 and 32 connections, 15 s each, 3 repetitions
    .venv/bin/python bench/http_wrk.py --seconds 5 --reps 1 --clients 32

bench/http_load.py drives `complaintflow serve` from 32 Python threads, which take one of the two cores
the service needs. Here wrk does it: one thread and one keep-alive connection per client, each opening a
case (POST /v1/cases) and taking its first action with If-Match (POST .../actions/notify_department), over
and over, as http_load.py does. The service is the same: SQLite FULL, group commit, the wall clock, on
127.0.0.1. Reported per client count, medians over repetitions: requests/s, p50 and p99 latency (wrk's
own, over every request), requests that were not 2xx, and the share of time spent outside the engine (the
service's metrics).
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.http_load import CASE, bench_token, metric_sum  # noqa: E402
from tests.service.serving import serving  # noqa: E402

# Each wrk thread has its own Lua state and, with one connection per thread, its requests go strictly one
# after the other: the case id the start answered is the one the next request acts on.
SCRIPT = """
local token = "%(token)s"
local body = '%(body)s'
local case_id = nil
local failed = 0

request = function()
  if case_id == nil then
    return wrk.format("POST", "/v1/cases", {["Authorization"] = "Bearer " .. token,
      ["Content-Type"] = "application/json"}, body)
  end
  local path = "/v1/cases/" .. case_id .. "/actions/notify_department"
  case_id = nil
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json", ["If-Match"] = '"1"'}, '{"role": "receiver"}')
end

response = function(status, headers, body)
  if status == 201 then
    case_id = body:match('"id"%%s*:%%s*"([^"]+)"')
  end
end
"""

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * UNITS[unit]


def one_run(url: str, script: Path, clients: int, seconds: int) -> dict[str, float]:
    before = httpx.get(url + "/metrics").text
    done = subprocess.run(
        ["wrk", f"-t{clients}", f"-c{clients}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    if done.stderr.strip():  # a script error: wrk would go on with plain GETs of /
        raise SystemExit(f"wrk: {done.stderr.strip().splitlines()[0]}")
    out = done.stdout
    after = httpx.get(url + "/metrics").text
    inside = metric_sum(after, "complaintflow_engine_seconds") - metric_sum(before, "complaintflow_engine_seconds")
    total = metric_sum(after, "complaintflow_http_request_seconds") - metric_sum(
        before, "complaintflow_http_request_seconds"
    )
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    if len(percentiles) < 2:
        raise SystemExit("wrk printed no latency distribution:\n" + out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(percentiles["50"]),
        "p99_ms": _ms(percentiles["99"]),
        "not_2xx": float(non_2xx.group(1)) if non_2xx else 0.0,
        "outside_engine": 1 - inside / total if total else 0.0,
    }


def _profiler(pid: int, out: str) -> subprocess.Popen[bytes]:
    """py-spy sampling the service until it is interrupted: only the thread holding the GIL (its Python
    runs on one core, so that is where a request's CPU goes), without pausing it to read its stacks."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [spy, "record", "--pid", str(pid), "--format", "speedscope", "--output", out, "--rate", "200"]
    command += ["--gil", "--nonblocking"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--postgres", action="store_true", help="the store on a throw-away PostgreSQL cluster (bench/pg_scale.py's)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="serve --workers N (the engine share is then one worker's)"
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="record the service with py-spy (pip install py-spy) into FILE (speedscope)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    server = None
    if args.postgres:
        from bench.pg_scale import start_server

        server = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rows = _runs(Path(tmp), args, server.new_store() if server is not None else None)
    finally:
        if server is not None:
            server.stop()
    print("| clients | requests/s | p50 | p99 | not 2xx | time outside the engine |")
    print("|---|---|---|---|---|---|")
    for clients, med in rows:
        print(
            f"| {clients} | {med['requests_per_s']:.0f} | {med['p50_ms']:.1f} ms | {med['p99_ms']:.1f} ms | "
            f"{med['not_2xx']:.0f} | {med['outside_engine']:.0%} |"
        )


def _runs(tmp: Path, args: argparse.Namespace, db: str | None) -> list[tuple[int, dict[str, float]]]:
    """Each client count's medians against one service (its store: ``db``, else an SQLite file in ``tmp``)."""
    import json

    rows = []
    with serving(tmp, db=db, wall_clock=True, extra=["--workers", str(args.workers)]) as served:  # type: ignore[arg-type]
        token = bench_token(served)
        script = tmp / "pairs.lua"
        script.write_text(SCRIPT % {"token": token, "body": json.dumps(CASE, ensure_ascii=False)}, encoding="utf-8")
        spy = _profiler(served.process.pid, args.profile) if args.profile else None
        for clients in (int(c) for c in args.clients.split(",")):
            runs = [one_run(served.base_url, script, clients, args.seconds) for _ in range(args.reps)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            rows.append((clients, med))
            print(
                f"{clients:>3} clients: {med['requests_per_s']:7.0f} req/s  p50 {med['p50_ms']:6.1f} ms  "
                f"p99 {med['p99_ms']:6.1f} ms  not 2xx {med['not_2xx']:.0f}  "
                f"outside the engine {med['outside_engine']:.0%}",
                file=sys.stderr,
                flush=True,
            )
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
            spy.wait(timeout=60)
    return rows


if __name__ == "__main__":
    main()
