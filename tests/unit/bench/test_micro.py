"""bench/micro.py: the alternation of reference and subject rounds, the ratio taken of
them, and the verdict of `make bench-check`, on scripted durations (no clock is read).
The subjects themselves are run once each, to prove they measure the path they name."""

from __future__ import annotations

import asyncio
import json
import statistics
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from bench import micro

from neodyme_app.config import JwtAlgorithm
from neodyme_app.container import build_container
from neodyme_domain.errors import WeakPassword
from neodyme_domain.use_cases import RegisterCommand


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


@pytest.mark.parametrize(
    "name", ["policy", "token", "login", "jwt_hs256", "jwks_eddsa", "jwks_es256"]
)
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


def counted(name: str, run: Callable[[], None], **fields: Any) -> micro.Benchmark:
    return micro.Benchmark(name, f"the {name}", run, operations=10, **fields)


def test_a_subject_weighed_against_another_alternates_with_it_the_other_first_and_last():
    script = Script()
    other = counted("hs", script.work("hs", [20, 10, 30]))
    subject = counted("ed", script.work("ed", [50, 40]), against="hs")
    figure = micro.versus(subject, other, 2, script.timer)
    assert script.calls == ["hs", "ed", "hs", "ed", "hs"]
    assert figure["name"] == "hs"
    assert figure["ratio"] == 40 / 10  # the fastest rounds' cost, as against the reference
    assert figure["pairs"][1] == pytest.approx(statistics.median([50 / 15, 40 / 20]), abs=1e-4)
    assert figure["ops_per_s"] == 10 * 1e9 / 40
    assert figure["other_ops_per_s"] == 10 * 1e9 / 10
    assert figure["throughput_ratio"] == 0.25


def test_only_counted_subjects_that_need_no_preparing_are_weighed_against_each_other():
    script = Script()
    other = counted("hs", script.work("hs", [1] * 3))
    with pytest.raises(ValueError, match="count operations"):
        micro.versus(micro.Benchmark("ed", "uncounted", script.work("ed", [1])), other, 1)
    prepared = counted("ed", script.work("ed", [1]), prepare=lambda: None)
    with pytest.raises(ValueError, match="no preparing"):
        micro.versus(prepared, other, 1)
    assert script.calls == []


WRITTEN_ON = {"cpu": "AMD EPYC", "cores": 2, "python": "3.11.7"}


def committed_like(**ratios: float) -> dict[str, Any]:
    old = {key: value for key, value in micro.WORKLOAD.items() if key != "verify"}
    return baseline(**ratios) | {"workload": old, "machine": WRITTEN_ON, "commit": "c0ffee"}


def test_new_benchmarks_are_written_into_the_baseline_beside_the_others_kept_as_they_were():
    before = committed_like(login=2.5, token=3.0)
    runs = [{"jwks_eddsa": {"what": "EdDSA", "ratio": ratio}} for ratio in (4.4, 4.2, 4.3)]
    merged = micro.merge_baseline(before, runs, WRITTEN_ON | {"kernel": "other"})
    assert merged["workload"] == micro.WORKLOAD
    assert merged["commit"] == "c0ffee"  # the others' provenance, as it was
    assert merged["benchmarks"]["login"] == {"ratio": 2.5}
    assert merged["benchmarks"]["token"] == {"ratio": 3.0}
    written = merged["benchmarks"]["jwks_eddsa"]
    assert (written["ratio"], written["runs"]) == (4.3, [4.4, 4.2, 4.3])
    assert {"commit", "dirty", "date"} <= written.keys()
    assert micro.compare(merged, {"login": 2.5, "token": 3.0, "jwks_eddsa": 4.3}) == []


def test_benchmarks_are_not_added_to_a_baseline_of_other_workloads_or_of_another_machine():
    runs = [{"jwks_eddsa": {"what": "EdDSA", "ratio": 4.0}}]
    other_workload = committed_like(login=2.5)
    other_workload["workload"] = other_workload["workload"] | {"login": 1}
    with pytest.raises(ValueError, match="workloads login changed"):
        micro.merge_baseline(other_workload, runs, WRITTEN_ON)
    with pytest.raises(ValueError, match="another machine"):
        micro.merge_baseline(committed_like(login=2.5), runs, WRITTEN_ON | {"cores": 8})


def registered_user() -> Any:
    container = build_container(micro.settings())
    loop = asyncio.new_event_loop()
    try:
        command = RegisterCommand("resource@example.com", "Bench", micro.PASSWORD)
        return loop.run_until_complete(container.register_user()(command)).user
    finally:
        container.hasher().close()
        loop.close()


@pytest.mark.parametrize("algorithm", [JwtAlgorithm.EDDSA, JwtAlgorithm.ES256])
def test_a_resource_server_checks_a_token_with_the_key_of_the_jwks_fetched_once(
    algorithm: JwtAlgorithm,
):
    """The key is the one neodyme publishes, for the token's kid and algorithm, fetched
    over HTTP once; the check refuses a token it did not sign, so a round cannot time a
    check that passes anything."""
    token, jwks = asyncio.run(micro.asymmetric_token(algorithm, registered_user()))
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["kid"]) == (algorithm.value, jwks["keys"][0]["kid"])
    key, fetches = micro.jwks_key(token, jwks)
    assert fetches == 1
    assert (key.key_id, key.algorithm_name) == (header["kid"], algorithm.value)
    config = micro.settings()
    micro.resource_server_check(token, key, algorithm.value, config)()
    head, payload, signature = token.split(".")
    other = "A" if signature[10] != "A" else "B"
    forged = f"{head}.{payload}.{signature[:10]}{other}{signature[11:]}"
    with pytest.raises(jwt.InvalidSignatureError):
        micro.resource_server_check(forged, key, algorithm.value, config)()
    with pytest.raises(jwt.InvalidAlgorithmError):  # pinned: the secret opens nothing
        micro.resource_server_check(token, config.secret_key, "HS256", config)()


def test_measuring_some_benchmarks_weighs_each_against_its_other_and_counts_operations():
    figures = micro.measure(rounds=2, only=["jwks_eddsa"])
    assert list(figures) == ["jwks_eddsa"]
    figure = figures["jwks_eddsa"]
    assert figure["ops_per_s"] > 0
    assert figure["versus"]["name"] == "jwt_hs256"
    assert figure["versus"]["throughput_ratio"] > 0
    with pytest.raises(ValueError, match="no benchmark nothing"):
        micro.measure(rounds=2, only=["nothing"])
