"""PostgreSQL with several workers: actions/s, timers due at one instant among a million open cases, bloat.

    .venv/bin/python bench/pg_scale.py                       # every part, 1, 2, 4 and 8 workers
    .venv/bin/python bench/pg_scale.py --parts actions --workers 1,2
    .venv/bin/python bench/pg_scale.py --parts timers --open-cases 100000
    .venv/bin/python bench/pg_scale.py --parts bloat --bloat-cases 1000000

A throw-away cluster (tests/pgserver.py) with durability on (fsync, synchronous_commit, full-page writes:
each commit waits for its WAL flush, as in production). Workers are processes, each with its own Engine on
the database URL, started and then released together.

- actions: each worker takes the workload's five actions (bench/workload.py) on cases of its own, started
  before the clock runs. Actions/s = all committed actions over the wall time from release to the last
  worker done; the ratio per added worker is (actions/s at n) / (actions/s at 1) / n.
- timers: N open cases written directly (rows cloned as bench/tick.py clones them, with COPY), 1% of them
  (slice r: case i with i % 100 == r) due at T0 + r. The run with the k-th worker count ticks at T0 + k, so
  each run fires its own 1% (10,000 of 1,000,000) on the same store. Every worker calls Engine.tick until it
  fires nothing; a case's lateness is the real time from release until the end of the tick round that fired
  it. Double fires: cases with more than one breach event of that slice (must be 0).
- bloat: N cases all due, fired by two workers (N breaches, 2N events), the outbox then acknowledged in
  pages as a notifier would, and the sizes of each table and its indexes (with dead rows) before, after,
  and after VACUUM.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"

from . import tick  # noqa: E402
from . import workload as w  # noqa: E402

TESTS = Path(__file__).resolve().parent.parent / "tests"
DURABLE = "-c fsync=on -c synchronous_commit=on -c full_page_writes=on -c shared_buffers=512MB"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the server and the store ----------------------------------------------------------------------------
def start_server() -> Any:
    sys.path.insert(0, str(TESTS))
    from pgserver import Server, find_initdb

    initdb = find_initdb()
    if initdb is None:
        raise SystemExit("PostgreSQL is not installed (no initdb)")
    server = Server(initdb, settings=DURABLE)
    server.start()
    return server


def side_by_side(
    doc: str, default_rounds: int, opened: dict[str, Any], one_round: Any, *, alternate: bool = False
) -> None:
    """A comparison bench's whole run: ``--rounds`` from the command line; on a throw-away cluster, one engine
    per name, opened by ``opened[name](url)`` on a new store with the workload's process loaded; each round
    ``one_round(engine, process, actor)`` on every engine in turn (in reverse every other round when
    ``alternate``), which returns its figures; then each engine's medians over the rounds, printed."""
    import argparse
    import statistics

    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=default_rounds)
    rounds = parser.parse_args().rounds
    server = start_server()
    try:
        engines = {}
        for name, open_engine in opened.items():
            engine = open_engine(str(server.new_store()))
            engines[name] = (engine, engine.load_process(w.PROCESS_YAML))
        desk = w.every_role_actor()
        seen: dict[str, dict[str, list[float]]] = {name: {} for name in engines}
        for n in range(rounds):
            order = list(engines.items())
            for name, (engine, spec) in reversed(order) if alternate and n % 2 else order:
                for what, value in one_round(engine, spec, desk).items():
                    seen[name].setdefault(what, []).append(value)
        width = max(map(len, seen))
        for name, measured in seen.items():
            figures = ", ".join(f"{what} {statistics.median(v):,.1f}" for what, v in measured.items())
            print(f"{name:>{width}}: {figures}")
        for engine, _ in engines.values():
            engine.close()
    finally:
        server.stop()


def new_store(server: Any) -> str:
    from complaintflow import Engine

    url = str(server.new_store())
    engine = Engine(url)
    engine.load_process(w.PROCESS_YAML)
    engine.close()
    return url


def copy_open_cases(url: str, n: int, slices: int) -> None:
    """N open case rows and their head events, written with COPY (the engine would take minutes)."""
    import psycopg

    from complaintflow.canonical import dumps

    templates = tick.templates()
    data = {id(templates.received.data): dumps(templates.received.data)}
    data[id(templates.handled.data)] = dumps(templates.handled.data)
    columns = "id, process_id, process_hash, state, branches, data, owner_role, clocks, revision, opened_at, "
    columns += "closed_at, last_at, last_hash, last_seq, next_due"
    with psycopg.connect(url) as db:
        with db.cursor() as cur:
            with cur.copy(f"COPY cases ({columns}) FROM STDIN") as copy:
                for i in range(n):
                    c = tick.open_case(templates, i, slices)
                    copy.write_row(
                        (c.id, c.process_id, c.process_hash, c.state, "{}", data[id(c.data)], c.owner_role)
                        + (dumps(c.clocks), c.revision, c.opened_at, c.closed_at, c.last_at, c.last_hash)
                        + (c.last_seq, c.next_due)
                    )
            event_columns = "case_id, seq, at, actor, role, kind, payload, prev_hash, hash"
            with cur.copy(f"COPY events ({event_columns}) FROM STDIN") as copy:
                for i in range(n):
                    e = tick.head_event(tick.open_case(templates, i, slices))
                    copy.write_row((e.case_id, e.seq, e.at, e.actor, e.role, e.kind, "{}", e.prev_hash, e.hash))
        db.commit()
        db.autocommit = True
        db.execute("VACUUM ANALYZE cases")
        db.execute("VACUUM ANALYZE events")
        db.execute("CHECKPOINT")  # the load's dirty pages written now, not during the first measured run


def sql(url: str, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        cur = db.execute(query, args)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


# -- workers ---------------------------------------------------------------------------------------------
def _act_worker(url: str, case_ids: list[str], go: Any, out: Any) -> None:
    from complaintflow import Actor, Engine

    engine = Engine(url)
    people = {"desk": Actor("wang", ("desk",)), "handler": Actor("li", ("handler",))}
    go.wait()
    done = 0
    for case_id in case_ids:
        for s, step in enumerate(w.STEPS):
            engine.act(case_id, step.action, people[step.role], step.inputs, at=w.step_at(s))
            done += 1
    out.put((done, time.perf_counter()))
    engine.close()


def _tick_worker(url: str, now: int, go: Any, out: Any) -> None:
    from complaintflow import Engine

    engine = Engine(url)
    engine.tick(now - 10**6)  # compiles the process before the clock runs
    go.wait()
    began = time.perf_counter()
    fired: list[tuple[float, int]] = []
    while True:
        events = engine.tick(now, batch=256, rounds=1)
        if not events:
            break
        fired.append((time.perf_counter(), sum(1 for e in events if e.kind == "deadline_breached")))
    out.put((began, fired))
    engine.close()


def _run(target: Any, argsets: list[tuple[Any, ...]]) -> tuple[float, list[Any]]:
    ctx = multiprocessing.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, go, out)) for a in argsets]
    for p in procs:
        p.start()
    time.sleep(3.0)  # let every worker connect and compile before the release (a benchmark, not a test)
    released = time.perf_counter()
    go.set()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return released, results


# -- the parts -------------------------------------------------------------------------------------------
def actions(server: Any, counts: list[int], cases_each: int) -> list[dict[str, float]]:
    from complaintflow import Actor, Engine

    rows = []
    for n in counts:
        url = new_store(server)
        engine = Engine(url)
        spec = engine.load_process(w.PROCESS_YAML)
        desk = Actor("wang", ("desk",))
        owned = [
            [engine.start(spec, w.START_DATA, desk, at=w.START_AT).id for _ in range(cases_each)] for _ in range(n)
        ]
        engine.close()
        released, results = _run(_act_worker, [(url, ids) for ids in owned])
        total = sum(r[0] for r in results)
        elapsed = max(r[1] for r in results) - released
        rows.append({"workers": n, "actions": total, "seconds": elapsed, "per_s": total / elapsed})
        log(f"actions: {n} worker(s): {total} actions in {elapsed:.2f} s = {total / elapsed:.0f}/s")
    return rows


def timers(server: Any, counts: list[int], open_cases: int) -> list[dict[str, float]]:
    url = new_store(server)
    began = time.perf_counter()
    copy_open_cases(url, open_cases, len(counts))
    log(f"timers: {open_cases:,} open cases written in {time.perf_counter() - began:.0f} s")
    rows = []
    for k, n in enumerate(counts):
        now = tick.T0 + k
        released, results = _run(_tick_worker, [(url, now) for _ in range(n)])
        lateness = sorted(t - released for _, fired in results for t, breaches in fired for _ in range(breaches))
        due = open_cases // tick.PER_SLICE
        (doubled,) = sql(
            url,
            "SELECT count(*) FROM (SELECT case_id FROM events WHERE kind = 'deadline_breached' AND at = %s "
            "GROUP BY case_id HAVING count(*) > 1) d",
            (now,),
        )[0]
        m = len(lateness)
        row = {
            "workers": n,
            "due": due,
            "fired": m,
            "double": doubled,
            "p50_s": lateness[m // 2] if m else 0.0,
            "p99_s": lateness[min(m - 1, int(m * 0.99))] if m else 0.0,
            "all_s": lateness[-1] if m else 0.0,
        }
        rows.append(row)
        log(f"timers: {n} worker(s): {m:,}/{due:,} fired, p99 {row['p99_s']:.2f} s, all {row['all_s']:.2f} s")
    return rows


SIZES = """
SELECT c.relname, pg_relation_size(c.oid), pg_indexes_size(c.oid), s.n_live_tup, s.n_dead_tup
FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relname IN ('cases', 'events', 'outbox') AND s.schemaname = current_schema() ORDER BY 1
"""


def bloat(server: Any, n: int) -> dict[str, Any]:
    from complaintflow import Engine

    url = new_store(server)
    copy_open_cases(url, n, tick.PER_SLICE)  # every case falls due within T0 .. T0 + 99
    sql(url, "ANALYZE")
    before = sql(url, SIZES)
    began = time.perf_counter()
    _, results = _run(_tick_worker, [(url, tick.T0 + tick.PER_SLICE) for _ in range(2)])
    fired = sum(b for _, f in results for _, b in f)
    log(f"bloat: {fired:,} timers fired in {time.perf_counter() - began:.0f} s")
    engine = Engine(url)
    acked = 0
    while page := engine.store.outbox(None, 5000):
        engine.store.ack_outbox([m.id for m in page])
        acked += len(page)
    engine.close()
    sql(url, "ANALYZE")
    after = sql(url, SIZES)
    sql(url, "VACUUM")
    sql(url, "ANALYZE")
    vacuumed = sql(url, SIZES)
    return {"fired": fired, "acked": acked, "before": before, "after": after, "vacuumed": vacuumed}


def _mb(b: int) -> str:
    return f"{b / 2**20:,.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="actions,timers,bloat")
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--cases-each", type=int, default=200, help="cases per worker in the actions part")
    parser.add_argument("--open-cases", type=int, default=1_000_000)
    parser.add_argument("--bloat-cases", type=int, default=1_000_000)
    args = parser.parse_args()
    counts = [int(x) for x in args.workers.split(",")]
    parts = set(args.parts.split(","))
    server = start_server()
    try:
        if "actions" in parts:
            rows = actions(server, counts, args.cases_each)
            base = rows[0]["per_s"]
            print("| workers | actions | seconds | actions/s | ratio per worker |")
            print("|---|---|---|---|---|")
            for r in rows:
                ratio = r["per_s"] / base / r["workers"] * counts[0]
                print(f"| {r['workers']} | {r['actions']:,} | {r['seconds']:.2f} | {r['per_s']:.0f} | {ratio:.2f} |")
        if "timers" in parts:
            rows = timers(server, counts, args.open_cases)
            print(f"| workers | due at once (of {args.open_cases:,}) | fired | double fires | p50 | p99 | all fired |")
            print("|---|---|---|---|---|---|---|")
            for r in rows:
                print(
                    f"| {r['workers']} | {r['due']:,} | {r['fired']:,} | {r['double']} | {r['p50_s']:.2f} s | "
                    f"{r['p99_s']:.2f} s | {r['all_s']:.2f} s |"
                )
        if "bloat" in parts:
            b = bloat(server, args.bloat_cases)
            print(f"bloat: {b['fired']:,} timers fired, {b['acked']:,} outbox messages acknowledged")
            print("| table | when | table size | index size | live rows | dead rows |")
            print("|---|---|---|---|---|---|")
            for when in ("before", "after", "vacuumed"):
                for name, table, index, live, dead in b[when]:
                    print(f"| {name} | {when} | {_mb(table)} | {_mb(index)} | {live:,} | {dead:,} |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
