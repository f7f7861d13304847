"""bench/micro.py: the alternation of reference and subject rounds, the ratio taken of
them, and the verdict of `make bench-check`, on scripted durations (no clock is read).
The subjects themselves are run once each, to prove they measure the path they name."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from bench import micro

from neodyme_app.container import build_container
from neodyme_domain.errors import WeakPassword


class Script:
    """A fake clock that each piece of work moves by its next scripted duration."""

    def __init__(self) -> None:
        self.now = 0
        self.calls: list[str] = []

    def timer(self) -> int:
        return self.now

    def work(self, name: str, durations: list[int]) -> Callable[[], None]:
        steps = iter(durations)

        def run() -> None:
            self.calls.append(name)
            self.now += next(steps)

        return run


def test_reference_and_subject_rounds_alternate_and_the_reference_comes_first_and_last():
    script = Script()
    reference = script.work("ref", [10] * 4)
    subject = micro.Benchmark("s", "a subject", script.work("subject", [10] * 3))
    micro.alternate(reference, subject, 3, script.timer)
    assert script.calls == ["ref", "subject", "ref", "subject", "ref", "subject", "ref"]


def test_each_subject_round_is_prepared_first_and_the_preparation_is_not_timed():
    script = Script()
    reference = script.work("ref", [10] * 3)
    prepare = script.work("prepare", [1000] * 2)
    subject = micro.Benchmark("s", "a subject", script.work("subject", [30, 40]), prepare)
    rounds = micro.alternate(reference, subject, 2, script.timer)
    assert script.calls == ["ref", "prepare", "subject", "ref", "prepare", "subject", "ref"]
    assert rounds == micro.Rounds(reference=[10, 10, 10], subject=[30, 40])


def test_the_ratio_is_the_fastest_subject_round_over_the_fastest_reference_round():
    script = Script()
    reference = script.work("ref", [12, 30, 10, 20])
    subject = micro.Benchmark("s", "a subject", script.work("subject", [40, 25, 50]))
    rounds = micro.alternate(reference, subject, 3, script.timer)
    assert rounds.ratio == 25 / 10


def test_a_pair_ratio_is_a_subject_round_over_the_mean_of_the_reference_rounds_around_it():
    rounds = micro.Rounds(reference=[10, 30, 20, 20], subject=[40, 50, 30])
    assert rounds.pair_ratios() == [40 / 20, 50 / 25, 30 / 20]


def baseline(**ratios: float) -> dict[str, Any]:
    return {
        "workload": dict(micro.WORKLOAD),
        "benchmarks": {name: {"ratio": ratio} for name, ratio in ratios.items()},
    }


def test_a_ratio_up_to_30_percent_worse_or_any_better_passes():
    expected = baseline(policy=2.0, token=3.0, login=1.0)
    assert micro.compare(expected, {"policy": 2.6, "token": 1.0, "login": 1.3}) == []


def test_a_ratio_more_than_30_percent_worse_fails_naming_benchmark_baseline_now_and_change():
    failures = micro.compare(baseline(policy=2.0, token=3.0), {"policy": 2.0, "token": 4.5})
    assert [(f.name, f.baseline, f.now) for f in failures] == [("token", 3.0, 4.5)]
    assert str(failures[0]) == (
        "token: ratio 4.500 now, 3.000 in the baseline: +50% (more than +30%)"
    )


def test_the_bound_is_a_parameter():
    assert micro.compare(baseline(login=1.0), {"login": 1.15}, bound=0.1)[0].name == "login"


def test_a_benchmark_without_a_baseline_or_without_a_figure_fails():
    failures = micro.compare(baseline(policy=1.0, gone=1.0), {"policy": 1.0, "new": 1.0})
    assert [(f.name, f.baseline, f.now) for f in failures] == [
        ("gone", 1.0, None),
        ("new", None, 1.0),
    ]
    assert "make bench-baseline" in str(failures[1])


def test_a_baseline_of_other_workloads_is_refused_whatever_its_ratios():
    other = baseline(policy=1.0) | {"workload": dict(micro.WORKLOAD, login=1)}
    failures = micro.compare(other, {"policy": 1.0})
    assert [f.name for f in failures] == ["workload"]
    assert "make bench-baseline" in str(failures[0])


def test_the_baseline_is_the_median_of_its_runs_and_keeps_each_run():
    runs = [
        {"login": {"what": "a login", "ratio": ratio}, "token": {"what": "t", "ratio": 1.0}}
        for ratio in (3.0, 1.0, 2.0)
    ]
    document = micro.baseline_document(runs)
    assert document["benchmarks"]["login"] == {
        "what": "a login",
        "ratio": 2.0,
        "runs": [3.0, 1.0, 2.0],
    }
    assert document["workload"] == micro.WORKLOAD
    assert document["bound"] == micro.BOUND


def test_the_committed_baseline_is_of_the_current_workloads_and_every_benchmark():
    committed = json.loads(micro.BASELINE.read_text())
    assert committed["workload"] == micro.WORKLOAD
    with micro.subjects() as benchmarks:
        assert sorted(committed["benchmarks"]) == sorted(b.name for b in benchmarks)


def test_the_policy_benchmark_checks_passwords_that_the_app_accepts_and_refuses():
    policy = build_container(micro.settings()).password_policy()
    outcomes = set()
    for password in micro.POLICY_PASSWORDS:
        try:
            policy.check(password)
            outcomes.add("accepted")
        except WeakPassword:
            outcomes.add("refused")
    assert outcomes == {"accepted", "refused"}


@pytest.mark.parametrize("name", ["policy", "token", "login"])
def test_each_subject_runs_its_workload_on_the_success_path(name: str):
    """A wrong password, an expired or unverifiable token, a policy that refuses the
    accepted passwords: each would raise here, instead of being timed as a fast failure."""
    with micro.subjects() as benchmarks:
        (benchmark,) = [b for b in benchmarks if b.name == name]
        benchmark.run()


def test_a_baseline_from_another_machine_is_pointed_out():
    here = {"cpu": "AMD EPYC", "cores": 2, "python": "3.11.7", "kernel": "6.1"}
    assert micro.machine_note(here | {"kernel": "6.2"}, here).startswith("baseline machine")
    note = micro.machine_note(here | {"cpu": "Intel Xeon"}, here)
    assert note == "note: the baseline was written on another machine (cpu Intel Xeon -> AMD EPYC)"
