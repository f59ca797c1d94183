"""The SLA what-if simulation: scenarios, determinism, metrics, comparison and reports.

Everything runs on simulated time (no sleeping, no wall clock); runs are small so the file stays fast.
"""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

import pytest

from complaintflow.calendar import format_local, parse_local
from complaintflow.simulate import ScenarioError, compare, load_scenario, render, simulate, simulate_compare
from complaintflow.simulate.arrivals import arrival_times
from complaintflow.simulate.dist import parse_dist

ROOT = Path(__file__).resolve().parent.parent
MALL = ROOT / "processes" / "shopping_mall.yaml"
TZ = "Asia/Shanghai"


@pytest.fixture(scope="module")
def default():
    return load_scenario(None)


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def loosened(tmp_path: Path, hours: int) -> Path:
    """A copy of the shopping mall process with its 24-hour reply promise changed."""
    text = MALL.read_text(encoding="utf-8")
    old = "    within: 24h\n    escalation: mall_chain"
    assert text.count(old) == 1
    path = tmp_path / f"shopping_mall_{hours}h.yaml"
    path.write_text(text.replace(old, f"    within: {hours}h\n    escalation: mall_chain"), encoding="utf-8")
    return path


def reply(result) -> dict:
    return next(d for d in result.deadlines if d["id"] == "reply_24h")


# --------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_results(default):
    a = simulate(MALL, default, 60, seed=11)
    b = simulate(MALL, default, 60, seed=11)
    assert a.to_json() == b.to_json()
    assert render(a) == render(b) and render(a, "html") == render(b, "html")
    assert a.cases == 60 and reply(a)["started"] > 0


def test_a_different_seed_gives_different_results(default):
    a = simulate(MALL, default, 60, seed=11).to_json()
    b = simulate(MALL, default, 60, seed=12).to_json()
    assert a != b
    assert a["period"]["first_arrival"] != b["period"]["first_arrival"]


# --------------------------------------------------------------------------- what-if
def test_a_loosened_deadline_lowers_breaches(tmp_path, default):
    cmp = simulate_compare(MALL, loosened(tmp_path, 48), default, 150, seed=5)
    old, new = reply(cmp.old), reply(cmp.new)
    assert old["breaches"] > 0, "the scenario must produce breaches for this test to mean anything"
    assert new["breaches"] < old["breaches"]
    assert new["on_time_rate"] > old["on_time_rate"]
    assert cmp.new.escalations_of("ops_manager") < cmp.old.escalations_of("ops_manager")
    rows = {r["id"]: r for r in cmp.to_json()["changes"]["deadlines"]}
    assert rows["reply_24h"]["new_rule"] == "within 48h" and rows["reply_24h"]["breach_change"] < 0
    assert rows["results_by_17"]["breach_change"] == 0  # same cases, same handling: only the changed rule moves
    assert re.search(r"\[ops_manager\] got \d+ escalations, -\d+ vs old", render(cmp))


def test_a_tightened_deadline_raises_breaches_and_escalation_work(tmp_path, default):
    old = simulate(MALL, default, 150, seed=5)
    new = simulate(loosened(tmp_path, 12), default, 150, seed=5)
    cmp = compare(old, new)
    assert reply(new)["breaches"] > reply(old)["breaches"]
    assert cmp.to_json()["changes"]["breaches"]["change"] > 0
    assert new.escalations_of("ops_manager") > old.escalations_of("ops_manager")
    assert cmp.warnings == []
    html = render(cmp, "html")
    assert html.count("<svg") >= 3 and "within 12h" in html


def test_compare_warns_when_runs_are_not_like_for_like(default):
    a, b = simulate(MALL, default, 20, seed=1), simulate(MALL, default, 25, seed=2)
    assert any("seed" in w for w in compare(a, b).warnings)
    assert any("cases" in w for w in compare(a, b).warnings)


# --------------------------------------------------------------------------- every bundled process
@pytest.mark.parametrize("path", sorted((ROOT / "processes").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_bundled_process_simulates_with_the_default_scenario(path, default):
    result = simulate(path, default, 30, seed=3)
    data = result.to_json()
    json.dumps(data, ensure_ascii=False)  # JSON-ready
    o = data["outcome"]
    assert data["cases"] == 30 and o["closed"] + o["open"] == 30
    assert o["open"] == o["capped"] + o["stuck"]  # every case ran until it closed, hit the cap or had no way on
    assert sum(data["actions_by_role"].values()) > 30
    for d in data["deadlines"]:
        assert d["started"] == d["on_time"] + d["late"] + d["overdue_open"] + d["running"]
    html = render(result, "html")
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert "<script" not in html and "src=" not in html and "<link" not in html  # self-contained
    assert result.process["id"] in render(result)


# --------------------------------------------------------------------------- metrics
def test_escalations_per_level_and_role_add_up(default):
    r = simulate(MALL, default, 120, seed=2)
    assert r.escalations_by_level["1"] > 0
    assert sum(r.escalations_by_level.values()) == sum(c["total"] for c in r.escalations_by_role.values())
    assert all(c["total"] == c.get("notify", 0) + c.get("reassign", 0) for c in r.escalations_by_role.values())
    assert r.escalations_by_role["ops_manager"].get("level 1", 0) > 0  # mall_chain: step 1 is ops_manager
    assert set(r.escalations_by_role) <= {"ops_manager", "store_manager"}
    assert r.breaches() == sum(r.breaches_by_role.values())
    states = {s["id"]: s for s in r.states}
    assert states["received"]["visits"] == 120 and states["received"]["p50_h"] <= states["received"]["p90_h"]


def test_the_step_cap_stops_cases_and_is_reported(tmp_path):
    sc = load_scenario(write(tmp_path, "max_steps: 2\nloop_back: 0\n"))
    r = simulate(MALL, sc, 40, seed=1)
    o = r.outcome
    assert o["capped"] > 0 and o["closed"] + o["capped"] + o["stuck"] == 40
    assert r.actions.get("answer_at_once", 0) == o["closed"]  # the only two-step way to close
    assert "hit the step cap" in render(r)


def test_loop_back_share_sends_unsatisfied_customers_back(tmp_path):
    never = simulate(MALL, load_scenario(write(tmp_path, "loop_back: 0\n", "a.yaml")), 80, seed=4)
    often = simulate(MALL, load_scenario(write(tmp_path, "loop_back: 0.9\n", "b.yaml")), 80, seed=4)
    back = ("customer_unsatisfied_floor", "customer_unsatisfied_dept")
    assert sum(never.actions.get(a, 0) for a in back) == 0
    assert sum(often.actions.get(a, 0) for a in back) > 20


def test_choice_weights_and_field_weights_steer_the_cases(tmp_path):
    sc = load_scenario(
        write(
            tmp_path,
            "choices: {answer_at_once: 1, submit_result: 0, escalate_to_ops_manager: 0}\n"
            "fields:\n  category: {tenant: 1}\n  severity: {major: 1}\n",
        )
    )
    r = simulate(MALL, sc, 40, seed=9)
    assert r.actions["pass_to_floor"] == 40 and "pass_to_department" not in r.actions
    assert r.actions["answer_at_once"] == 40 and r.outcome["closed"] == 40


def test_progress_is_reported_about_every_percent(default):
    calls: list[tuple[int, int]] = []
    simulate(MALL, default, 300, seed=1, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (300, 300)
    assert all(t == 300 for _, t in calls) and [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert 50 <= len(calls) <= 102


def test_scenario_names_the_process_does_not_have_are_warnings(tmp_path):
    sc = load_scenario(write(tmp_path, "choices: {no_such_action: 2}\nhandling:\n  states: {nowhere: 1h}\n"))
    r = simulate(MALL, sc, 10, seed=1)
    assert any("no_such_action" in w for w in r.warnings) and any("nowhere" in w for w in r.warnings)
    assert "warning:" in render(r)


# --------------------------------------------------------------------------- scenario files
def test_the_default_file_is_the_built_in_default():
    assert load_scenario(ROOT / "scenarios" / "default.yaml") == load_scenario(None)


def test_the_mall_example_names_only_what_the_mall_has():
    sc = load_scenario(ROOT / "scenarios" / "shopping_mall_double11.yaml")
    r = simulate(MALL, sc, 40, seed=1)
    assert r.warnings == [] and r.scenario["id"] == "shopping_mall_double11"


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_scenario_loads(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/scenario.schema.json"
    assert load_scenario(path).id == path.stem


def test_an_unknown_key_is_a_positioned_error(tmp_path):
    path = write(tmp_path, "scenario: bad\narivals:\n  hourly: [1]\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert f"{path}:2:1: error: unknown key 'arivals'" in text and "did you mean 'arrivals'" in text


@pytest.mark.parametrize(
    "body, where, words",
    [
        ("handling:\n  default: {lognormal: {median: 2h, p90: 1h}}\n", "2:12", "p90 must be above the median"),
        ("handling:\n  default: {normal: {mean: 1h}}\n", "2:13", "unknown key 'normal'"),
        ("handling:\n  actions:\n    close: {uniform: [2h, 1h]}\n", "3:12", "low is above high"),
        ("handling:\n  default: 30 minutes\n", "2:12", "not in the expected form"),
        ("arrivals:\n  hourly: [1, 2]\n", "2:11", "hourly"),
        ('start: "2025-02-30 08:00"\n', "1:8", "not a real date"),
        ("loop_back: 1.5\n", "1:12", "1.5"),
        ("handling: {default: 1h}\nhandling: {default: 2h}\n", "2:1", "duplicate key"),
    ],
)
def test_a_bad_scenario_is_a_positioned_error(tmp_path, body, where, words):
    path = write(tmp_path, body)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert f"{path}:{where}: error:" in str(err.value) and words in str(err.value), str(err.value)


def test_a_field_that_does_not_fit_the_process_is_a_positioned_error(tmp_path):
    path = write(tmp_path, "fields:\n  severity: {lognormal: {median: 2, p90: 5}}\n  category: {food_court: 1}\n")
    with pytest.raises(ScenarioError, match=r":2:3: error: field 'severity' is a enum"):
        simulate(MALL, load_scenario(path), 5, seed=1)
    path = write(tmp_path, "fields:\n  category: {food_court: 1}\n", "b.yaml")
    with pytest.raises(ScenarioError, match=r":2:14: error: 'food_court' is not a value of field 'category'"):
        simulate(MALL, load_scenario(path), 5, seed=1)


def test_a_missing_scenario_file_is_an_error(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read the scenario"):
        load_scenario(tmp_path / "nope.yaml")


# --------------------------------------------------------------------------- distributions and arrivals
def test_distributions_match_their_parameters():
    rng = random.Random(1)
    draws = sorted(parse_dist({"lognormal": {"median": "2h", "p90": "8h"}}, True).sample(rng) for _ in range(4000))
    assert abs(draws[2000] / 7200 - 1) < 0.08 and abs(draws[3600] / 28800 - 1) < 0.12
    expo = [parse_dist({"exponential": {"mean": "1h"}}, True).sample(rng) for _ in range(4000)]
    assert abs(sum(expo) / len(expo) / 3600 - 1) < 0.06
    uni = [parse_dist({"uniform": [10, 20]}, False).sample(rng) for _ in range(500)]
    assert 10 <= min(uni) and max(uni) <= 20
    assert parse_dist("90m", True).sample(rng) == 5400 and parse_dist(7, False).sample(rng) == 7
    assert isinstance(parse_dist("7", False), str) and isinstance(parse_dist(7, True), str)
    assert not math.isnan(draws[0])


def test_arrivals_follow_the_hourly_and_weekday_rates_and_bursts(tmp_path):
    hourly = [0] * 24
    hourly[10] = 6
    sc = load_scenario(
        write(
            tmp_path,
            f'start: "2025-11-03 00:00"\narrivals:\n  hourly: {hourly}\n'
            "  weekdays: {sat: 0, sun: 0}\n"
            '  bursts: [{at: "2025-11-05 03:00", extra: 25, over: 30m}]\n',
        )
    )
    times, warnings = arrival_times(sc, TZ, 200, random.Random(1))
    assert len(times) == 200 and warnings == [] and times == sorted(times)
    local = [format_local(t, TZ) for t in times]
    burst = [t for t in local if t[11:13] == "03"]
    assert len(burst) == 25 and all("2025-11-05 03:00" <= t < "2025-11-05 03:30" for t in burst)
    others = [t for t in local if t not in burst]
    assert all(t[11:13] == "10" for t in others)
    from datetime import date

    assert all(date.fromisoformat(t[:10]).weekday() < 5 for t in others)
    days = len({t[:10] for t in others})
    assert 25 <= days <= 40  # about six a day on five days a week: 175 arrivals take about 29 working days
    assert times[0] >= parse_local("2025-11-03 00:00", TZ)
