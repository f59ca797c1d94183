"""HTTP benchmark: 1, 8 and 32 clients acting through a real `complaintflow serve` on SQLite FULL.

    .venv/bin/python bench/http_load.py               # 200 start+act pairs per client count, 3 repetitions
    .venv/bin/python bench/http_load.py --pairs 50 --reps 1

Each client opens a case and takes its first action (two requests), over and over, on its own keep-alive
connection. Reported per client count, medians over the repetitions: requests/s, p50 and p99 latency as
the clients saw it, and the share of each request's time spent outside the engine (from the service's
own metrics: 1 - time inside engine calls / time inside requests). Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from tests.service.serving import serving  # noqa: E402

CASE = {
    "process": "property_management",
    "role": "receiver",
    "data": {"customer_name": "李雷", "phone": "13900000000", "subject": "电梯故障", "channel": "phone_call"},
}


def metric_sum(text: str, name: str) -> float:
    """A histogram's total over all its label sets."""
    return sum(float(v) for v in re.findall(rf"^{name}_sum(?:{{[^}}]*}})? (\S+)$", text, re.M))


def bench_token(served) -> str:
    """A token of a user holding the receiver role, made by the service's admin."""
    with served.client(served.admin_token) as admin:
        admin.post("/v1/users", json={"id": "bench", "name": "bench", "roles": ["receiver"]})
        return str(admin.post("/v1/tokens", json={"user": "bench"}).json()["token"])


def one_run(served, token: str, clients: int, pairs: int) -> dict[str, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    errors = [0]

    def client() -> None:
        mine: list[float] = []
        with httpx.Client(base_url=served.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as h:
            for _ in range(pairs):
                t0 = time.perf_counter()
                opened = h.post("/v1/cases", json=CASE)
                t1 = time.perf_counter()
                if opened.status_code != 201:
                    errors[0] += 1
                    continue
                acted = h.post(
                    f"/v1/cases/{opened.json()['id']}/actions/notify_department",
                    json={"role": "receiver"},
                    headers={"If-Match": '"1"'},
                )
                t2 = time.perf_counter()
                if acted.status_code != 200:
                    errors[0] += 1
                mine += [t1 - t0, t2 - t1]
        with lock:
            latencies.extend(mine)

    before = httpx.get(served.base_url + "/metrics").text
    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    after = httpx.get(served.base_url + "/metrics").text
    inside = metric_sum(after, "complaintflow_engine_seconds") - metric_sum(before, "complaintflow_engine_seconds")
    total = metric_sum(after, "complaintflow_http_request_seconds") - metric_sum(
        before, "complaintflow_http_request_seconds"
    )
    latencies.sort()
    return {
        "requests_per_s": len(latencies) / wall,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "outside_engine": 1 - inside / total if total else 0.0,
        "errors": errors[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=200, help="start+act pairs per client count (split)")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, serving(Path(tmp), wall_clock=True) as served:
        token = bench_token(served)
        for clients in (1, 8, 32):
            runs = [one_run(served, token, clients, max(1, args.pairs // clients)) for _ in range(args.reps)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            rows.append((clients, med))
            print(
                f"{clients:>3} clients: {med['requests_per_s']:7.0f} req/s  p50 {med['p50_ms']:6.1f} ms  "
                f"p99 {med['p99_ms']:6.1f} ms  outside the engine {med['outside_engine']:.0%}  "
                f"errors {med['errors']:.0f}",
                file=sys.stderr,
                flush=True,
            )
    print("| clients | requests/s | p50 | p99 | time outside the engine |")
    print("|---|---|---|---|---|")
    for clients, med in rows:
        print(
            f"| {clients} | {med['requests_per_s']:.0f} | {med['p50_ms']:.1f} ms | {med['p99_ms']:.1f} ms | "
            f"{med['outside_engine']:.0%} |"
        )


if __name__ == "__main__":
    main()
