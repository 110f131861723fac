"""`framecast spend` and the daily cap (`max_daily_cost`): what the journal knows was spent.

History is made by really submitting jobs to the emulator over loopback: its Lumenfall
dialect reports final costs, its NanoGPT dialect a pre-charge and a final cost, its
strict OpenAI dialect none (so framecast's table estimates them). Older history, and
other currencies (the emulator's NanoGPT always charges USD), are journaled through the
Journal API and moved back in time as another program would.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from framecast.domain import Job, JobRequest, JobStatus
from framecast.emulator import EmulatorConfig
from framecast.journal import Journal
from tests.conftest import FRAMECAST, TERMINAL, Served, invoke, plain, serve, spawn

BOAT = "a paper boat drifting down a rainy street"
LUMENFALL_KEY = "lmnfl_test.secret"


@pytest.fixture
def dialects(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Served, Served]]:
    """One emulator speaking Lumenfall's and NanoGPT's dialects, one strict OpenAI server."""
    gateway = serve(EmulatorConfig(job_seconds=0.3))
    strict = serve(EmulatorConfig(job_seconds=0.3, dialect="openai"))
    monkeypatch.setenv("LUMENFALL_API_KEY", LUMENFALL_KEY)
    monkeypatch.setenv("LUMENFALL_BASE_URL", gateway.origin + "/openai/v1")
    monkeypatch.setenv("NANOGPT_API_KEY", "nano-test-key")
    monkeypatch.setenv("NANOGPT_BASE_URL", gateway.origin + "/api")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("OPENAI_BASE_URL", strict.base_url)
    yield gateway, strict
    gateway.server.stop()
    strict.server.stop()


@pytest.fixture
def lumenfall(monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    served = serve(EmulatorConfig(job_seconds=0.3))
    monkeypatch.setenv("LUMENFALL_API_KEY", LUMENFALL_KEY)
    monkeypatch.setenv("LUMENFALL_BASE_URL", served.origin + "/openai/v1")
    monkeypatch.setenv("FRAMECAST_PROVIDER", "lumenfall")
    yield served
    served.server.stop()


@pytest.fixture
def ten_hours_east() -> Iterator[None]:
    """This machine's time zone is UTC+10 (a POSIX TZ: no time zone database needed)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "AEX-10"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def spent(*args: str) -> dict[str, Any]:
    result = invoke("spend", *args, "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def journal_job(
    job: Job, request: JobRequest, *, when: float, base_url: str = "https://api.invalid/v1"
) -> None:
    """A job in the journal, submitted at `when` (moved there as another program would)."""
    with Journal.open_default() as journal:
        journal.record_submission(job, request, base_url)
    path = Path(os.environ["FRAMECAST_DATA_DIR"]) / "journal.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("UPDATE jobs SET submitted_at = ? WHERE id = ?", (when, job.id))


def creates(served: Served) -> list[str]:
    """The create requests the emulator received (dry runs are not creates)."""
    return [s.path for s in served.seen("POST", "/videos") if "dryRun" not in s.query]


# -- spend ---------------------------------------------------------------------------------


def test_final_costs_count_estimates_are_marked_and_refunds_count_nothing(
    dialects: tuple[Served, Served],
) -> None:
    runs = [
        invoke("generate", BOAT, "--provider", "lumenfall", "-m", "sora-2", "-s", "8", "-q"),
        invoke("generate", BOAT, "--provider", "nanogpt", "-m", "veo-3.1", "-s", "8", "-q"),
        invoke("generate", BOAT, "--provider", "openai", "-m", "sora-2", "-s", "4", "-q"),
    ]
    failed = invoke(
        "generate",
        "a storm",
        "--provider",
        "nanogpt",
        "-m",
        "veo-3.1",
        "-s",
        "8",
        "-P",
        "emulator_outcome=failed",
        "-q",
    )

    assert [r.exit_code for r in runs] == [0, 0, 0], [r.output for r in runs]
    assert failed.exit_code == 6, failed.output
    document = spent("--by", "provider")
    groups = {group["provider"]: group for group in document["groups"]}
    # Lumenfall reported its final cost; NanoGPT its final cost, and for the failed run only
    # a pre-charge, which it refunds; the OpenAI server nothing: framecast's table prices it.
    assert groups["lumenfall"] | {"provider": None} == {
        "provider": None,
        "currency": "USD",
        "total": pytest.approx(0.8),
        "final": pytest.approx(0.8),
        "estimated": 0,
        "jobs": 1,
        "estimated_jobs": 0,
        "refunded_jobs": 0,
        "unpriced_jobs": 0,
    }
    nanogpt = groups["nanogpt"]
    assert (nanogpt["total"], nanogpt["final"]) == (pytest.approx(3.2), pytest.approx(3.2))
    assert (nanogpt["jobs"], nanogpt["refunded_jobs"], nanogpt["estimated_jobs"]) == (2, 1, 0)
    openai = groups["openai"]
    assert (openai["final"], openai["estimated"]) == (0, pytest.approx(0.4))
    assert openai["estimated_jobs"] == 1
    assert document["totals"] == [
        {
            "currency": "USD",
            "total": pytest.approx(4.4),
            "final": pytest.approx(4.0),
            "estimated": pytest.approx(0.4),
            "jobs": 4,
            "estimated_jobs": 1,
            "refunded_jobs": 1,
            "unpriced_jobs": 0,
        }
    ]
    assert (document["by"], document["since"], document["until"]) == (["provider"], None, None)


def test_a_job_still_running_counts_the_provider_s_estimate(lumenfall: Served) -> None:
    submitted = invoke("generate", BOAT, "-m", "sora-2", "-s", "12", "--no-wait", "-q")

    assert submitted.exit_code == 0, submitted.output
    (group,) = spent()["groups"]
    assert (group["final"], group["estimated"], group["estimated_jobs"]) == (
        0,
        pytest.approx(1.2),
        1,
    )


def test_currencies_are_never_added_together() -> None:
    now = time.time()
    nano = JobRequest(prompt="x", model="veo-3.1", seconds=8)
    journal_job(
        Job(
            "vid_xno",
            "nanogpt",
            JobStatus.COMPLETED,
            model="veo-3.1",
            cost=2.5,
            currency="XNO",  # a cost reported in XNO (NanoGPT's own costs are in USD)
            balance=40.0,
            payment_source="XNO",
        ),
        nano,
        when=now,
    )
    journal_job(
        Job(
            "vid_usd",
            "nanogpt",
            JobStatus.COMPLETED,
            model="veo-3.1",
            cost=3.2,
            currency="USD",
            balance=96.8,
            payment_source="USD",
        ),
        nano,
        when=now,
    )

    document = spent("--by", "model")

    assert [(g["model"], g["currency"], g["total"]) for g in document["groups"]] == [
        ("veo-3.1", "USD", pytest.approx(3.2)),
        ("veo-3.1", "XNO", pytest.approx(2.5)),
    ]
    assert [(t["currency"], t["total"]) for t in document["totals"]] == [
        ("USD", pytest.approx(3.2)),
        ("XNO", pytest.approx(2.5)),
    ]
    table = invoke("spend", env=TERMINAL)
    assert table.exit_code == 0, table.output
    assert "Total USD: $3.20, 1 job(s)" in table.stdout
    assert "Total XNO: 2.50 XNO, 1 job(s)" in table.stdout


def test_days_are_local_and_both_ends_of_the_window_count(ten_hours_east: None) -> None:
    request = JobRequest(prompt="x", model="sora-2", seconds=4)
    # 2026-03-01 20:00 UTC is 06:00 on 2026-03-02 here; 13:00 UTC is 23:00 on 2026-03-01.
    late = datetime.fromisoformat("2026-03-01T20:00:00+00:00").timestamp()
    early = datetime.fromisoformat("2026-03-01T13:00:00+00:00").timestamp()
    for job_id, when, cost in (("video_late", late, 0.4), ("video_early", early, 0.8)):
        job = Job(job_id, "lumenfall", JobStatus.COMPLETED, model="sora-2", cost=cost)
        journal_job(job, request, when=when)

    by_day = spent()
    one_day = spent("--since", "2026-03-02", "--until", "2026-03-02")
    before = spent("--until", "2026-03-01")

    assert [(g["day"], g["total"]) for g in by_day["groups"]] == [
        ("2026-03-01", pytest.approx(0.8)),
        ("2026-03-02", pytest.approx(0.4)),
    ]
    assert by_day["timezone"] == "AEX"
    assert [g["total"] for g in one_day["groups"]] == [pytest.approx(0.4)]
    assert (one_day["since"], one_day["until"]) == ("2026-03-02", "2026-03-02")
    assert [g["total"] for g in before["groups"]] == [pytest.approx(0.8)]


def test_relative_days_count_back_from_today() -> None:
    request = JobRequest(prompt="x", model="sora-2", seconds=4)
    now = time.time()
    for job_id, days_ago in (("video_today", 0), ("video_week", 6), ("video_old", 7)):
        job = Job(job_id, "lumenfall", JobStatus.COMPLETED, model="sora-2", cost=1.0)
        journal_job(job, request, when=now - days_ago * 86400)

    today = datetime.fromtimestamp(now).date()
    assert spent("--since", "today")["totals"][0]["jobs"] == 1
    assert spent("--since", "1d")["totals"][0]["jobs"] == 1
    week = spent("--since", "7d")
    assert week["totals"][0]["jobs"] == 2
    assert week["since"] == (today - timedelta(days=6)).isoformat()
    assert spent("--until", "yesterday")["totals"][0]["jobs"] == 2


def test_a_submission_without_a_job_yet_counts_every_video_it_asked_for() -> None:
    request = JobRequest(prompt="x", model="sora-2", seconds=8, n=2)
    with Journal.open_default() as journal:
        journal.begin_submissions(
            [request], provider="lumenfall", base_url="https://api.invalid", fingerprint="f"
        )

    (group,) = spent()["groups"]

    assert (group["jobs"], group["estimated_jobs"]) == (2, 2)
    assert group["estimated"] == pytest.approx(1.6)  # the table: 2 x 8 s x $0.10


def test_what_cannot_be_priced_is_counted_apart() -> None:
    request = JobRequest(prompt="x", model="mystery-model", seconds=8)
    journal_job(
        Job("video_m", "openai", JobStatus.COMPLETED, model="mystery-model"),
        request,
        when=time.time(),
    )

    document = spent("--by", "model")

    assert document["groups"] == [
        {
            "model": "mystery-model",
            "currency": None,
            "total": None,
            "final": None,
            "estimated": None,
            "jobs": 1,
            "estimated_jobs": 0,
            "refunded_jobs": 0,
            "unpriced_jobs": 1,
        }
    ]
    table = invoke("spend", env=TERMINAL)
    assert table.exit_code == 0, table.output
    assert "1 job(s) could not be priced: they count nothing." in table.stdout


def test_a_table_on_a_terminal_and_tab_separated_values_when_piped(lumenfall: Served) -> None:
    done = invoke("generate", BOAT, "-m", "sora-2", "-s", "8", "-q")
    running = invoke("generate", "a storm", "-m", "sora-2", "-s", "4", "--no-wait", "-q")
    assert (done.exit_code, running.exit_code) == (0, 0), done.output + running.output
    today = datetime.now().date().isoformat()

    table = invoke("spend", "--by", "day", "--by", "model", env=TERMINAL)
    piped = invoke("spend", "--by", "model")

    assert table.exit_code == 0, table.output
    lines = plain(table.stdout).splitlines()
    assert lines[0].split() == [
        "DAY",
        "MODEL",
        "CURRENCY",
        "JOBS",
        "FINAL",
        "ESTIMATED",
        "TOTAL",
        "NOTES",
    ]
    assert lines[1].split() == [today, "sora-2", "USD", "2", "$0.80", "~$0.40", "~$1.20"]
    assert lines[2] == "Total USD: $1.20 (~$0.40 estimated), 2 job(s)"
    assert "~ an estimate: no final cost was reported" in table.stderr
    assert "Days are local time" in table.stderr
    assert piped.exit_code == 0, piped.output
    assert piped.stdout.splitlines() == [
        "model\tcurrency\tjobs\tfinal\testimated\ttotal\testimated_jobs\trefunded_jobs\tunpriced_jobs",
        "sora-2\tUSD\t2\t0.8\t0.4\t1.2\t1\t0\t0",
    ]


def test_an_empty_journal_says_so() -> None:
    result = invoke("spend")
    as_json = invoke("spend", "--json")

    assert (result.exit_code, result.stdout) == (0, "")
    assert "No jobs in the journal for that time." in result.stderr
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["groups"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "0d"), "--since '0d' is not a day."),
        (("--since", "2026-02-30"), "--since '2026-02-30' is not a day."),
        (("--until", "last week"), "--until 'last week' is not a day."),
        (("--since", "2026-03-02", "--until", "2026-03-01"), "--since 2026-03-02 is after"),
        (("--by", "week"), "Invalid value for '--by'"),
    ],
)
def test_bad_windows_are_refused(args: tuple[str, ...], message: str) -> None:
    result = invoke("spend", *args)

    assert (result.exit_code, result.stdout) == (2, "")
    assert f"framecast: error: {message}" in result.stderr


# -- max_daily_cost ------------------------------------------------------------------------


def test_the_daily_cap_refuses_before_anything_is_sent(lumenfall: Served) -> None:
    first = invoke("generate", BOAT, "-m", "sora-2", "-s", "8", "--max-daily-cost", "1", "-q")
    assert first.exit_code == 0, first.output
    jobs_before = lumenfall.app.jobs_created()

    over = invoke("generate", "a storm", "-m", "sora-2", "-s", "4", "--max-daily-cost", "1")
    at_cap = invoke(
        "generate",
        "a storm",
        "-m",
        "sora-2",
        "-s",
        "4",
        "--max-daily-cost",
        "1.2",
        "--no-wait",
        "-q",
    )

    assert (over.exit_code, over.stdout) == (8, ""), over.output
    assert (
        "framecast: error: Today's spend, $0.80, plus this request's estimate, $0.40, comes to "
        "$1.20: above the daily cap (max_daily_cost) of $1.00."
    ) in over.stderr
    assert "hint: Nothing was sent." in over.stderr
    assert at_cap.exit_code == 0, at_cap.output
    assert lumenfall.app.jobs_created() == jobs_before + 1
    assert len(creates(lumenfall)) == 2  # the refused request was priced, never created


def test_the_daily_cap_comes_from_the_environment_and_profiles(
    lumenfall: Served, isolated: Path
) -> None:
    config = Path(os.environ["FRAMECAST_CONFIG"])
    config.write_text("[profiles.thrifty]\nmax_daily_cost = 0.5\n", encoding="utf-8")

    from_profile = invoke("generate", BOAT, "-p", "thrifty", "-m", "sora-2", "-s", "8")
    from_env = invoke(
        "generate", BOAT, "-m", "sora-2", "-s", "8", env={"FRAMECAST_MAX_DAILY_COST": "0.5"}
    )
    allowed = invoke("generate", BOAT, "-m", "sora-2", "-s", "4", "-p", "thrifty", "-q")

    assert (from_profile.exit_code, from_env.exit_code) == (8, 8), (
        from_profile.output + from_env.output
    )
    assert "above the daily cap (max_daily_cost) of $0.50" in from_profile.stderr
    assert allowed.exit_code == 0, allowed.output
    assert len(creates(lumenfall)) == 1


def test_the_cap_counts_today_in_the_same_currency_only(lumenfall: Served) -> None:
    request = JobRequest(prompt="x", model="sora-2", seconds=8)
    yesterday = time.time() - 86400 - 3600
    journal_job(
        Job("video_old", "lumenfall", JobStatus.COMPLETED, model="sora-2", cost=5.0),
        request,
        when=yesterday,
    )
    journal_job(
        Job(
            "vid_xno",
            "other",
            JobStatus.COMPLETED,
            model="veo-3.1",
            cost=5.0,
            currency="XNO",
        ),
        request,
        when=time.time(),
    )

    result = invoke("generate", BOAT, "-m", "sora-2", "-s", "8", "--max-daily-cost", "1", "-q")

    assert result.exit_code == 0, result.output
    assert len(creates(lumenfall)) == 1


def test_a_nanogpt_job_paid_from_xno_counts_its_usd_cost_against_the_cap(
    lumenfall: Served,
) -> None:
    """NanoGPT's `cost` is in USD whichever balance paid it (`paymentSource`)."""
    journal_job(
        Job(
            "vid_xno",
            "nanogpt",
            JobStatus.COMPLETED,
            model="veo-3.1",
            cost=5.0,
            currency="USD",
            payment_source="XNO",
        ),
        JobRequest(prompt="x", model="veo-3.1", seconds=8),
        when=time.time(),
    )

    result = invoke("generate", BOAT, "-m", "sora-2", "-s", "8", "--max-daily-cost", "5.5", "-q")
    spent_now = spent("--since", "today")

    assert result.exit_code == 8, result.output
    assert "Today's spend, $5.00, plus this request's estimate, $0.80" in result.stderr
    assert creates(lumenfall) == []
    assert [(t["currency"], t["total"]) for t in spent_now["totals"]] == [("USD", 5.0)]


def test_a_request_that_cannot_be_priced_needs_allow_unpriced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = serve(EmulatorConfig(job_seconds=0.3))
    monkeypatch.setenv("NANOGPT_API_KEY", "nano-test-key")
    monkeypatch.setenv("NANOGPT_BASE_URL", served.origin + "/api")
    monkeypatch.setenv("FRAMECAST_PROVIDER", "nanogpt")
    try:
        args = (BOAT, "-m", "veo3-video", "--max-daily-cost", "5", "--no-wait", "-q")
        refused = invoke("generate", *args)
        allowed = invoke("generate", *args, "--allow-unpriced")
        journal_job(
            Job("vid_big", "nanogpt", JobStatus.COMPLETED, model="veo-3.1", cost=5.0),
            JobRequest(prompt="x", model="veo-3.1"),
            when=time.time(),
        )
        full = invoke("generate", *args, "--allow-unpriced", "--again")
    finally:
        served.server.stop()

    assert (refused.exit_code, refused.stdout) == (8, ""), refused.output
    assert "max_daily_cost cannot be checked" in refused.stderr
    assert "--allow-unpriced" in refused.stderr
    assert allowed.exit_code == 0, allowed.output
    assert (full.exit_code, full.stdout) == (8, ""), full.output
    assert "has reached the daily cap (max_daily_cost) of $5.00" in full.stderr
    assert len(served.seen("POST", "/api/generate-video")) == 1


def test_a_submission_journaled_meanwhile_is_seen_under_the_write_lock() -> None:
    """The check inside the journal's write transaction sees what another process journaled
    after this one's first check: nothing is recorded, so nothing can be sent."""
    from framecast import pricing, spending
    from framecast.catalog import get
    from framecast.errors import BudgetExceeded

    request = JobRequest(prompt="x", model="sora-2", seconds=8)
    estimate = pricing.from_table(request, get("sora-2"), "sora-2")
    with Journal.open_default() as mine, Journal.open_default() as other:
        spending.hold_to_daily_cap(mine, estimate, 1.0, allow_unpriced=False)  # nothing spent yet
        other.begin_submissions(
            [request], provider="lumenfall", base_url="https://api.invalid", fingerprint="a"
        )
        with pytest.raises(BudgetExceeded):
            mine.begin_submissions(
                [request], provider="lumenfall", base_url="https://api.invalid", fingerprint="b"
            )
        assert [e.fingerprint for e in mine.pending()] == ["a"]


def test_processes_submitting_at_once_cannot_all_pass_the_cap(lumenfall: Served) -> None:
    """Four processes at once, each 0.80 under a 1.00 cap: exactly one is sent."""
    children = [
        spawn(
            [
                *FRAMECAST,
                "generate",
                f"{BOAT} {i}",
                "-m",
                "sora-2",
                "-s",
                "8",
                "--max-daily-cost",
                "1",
                "--no-wait",
                "-q",
            ]
        )
        for i in range(4)
    ]
    outcomes = [(child.communicate(timeout=120), child.returncode) for child in children]

    codes = sorted(code for _, code in outcomes)
    assert codes == [0, 8, 8, 8], outcomes
    assert lumenfall.app.jobs_created() == 1
    assert len(creates(lumenfall)) == 1


@pytest.mark.parametrize(
    "window", [("--until", "9999-12-31"), ("--since", "0001-01-01"), ("--since", "99999999d")]
)
def test_days_beyond_what_the_clock_can_name_are_usage_errors(window: tuple[str, str]) -> None:
    result = invoke("spend", *window)

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert f"framecast: error: {window[0]} '{window[1]}' is not a day." in result.stderr


def test_an_unknown_outcome_is_priced_from_the_listing_it_was_checked_against(
    dialects: tuple[Served, Served],
) -> None:
    gateway, _ = dialects
    listed = invoke("models", "--provider", "nanogpt")
    gateway.app.inject("create:reset-after")
    # veo3-video is known only from NanoGPT's listing ($0.40 a second, apis.md 5).
    lost = invoke("generate", BOAT, "--provider", "nanogpt", "-m", "veo3-video", "-s", "8", "-q")
    document = spent("--since", "today")

    assert listed.exit_code == 0, listed.output
    assert lost.exit_code == 5, lost.output
    (group,) = document["groups"]
    assert (group["currency"], group["estimated_jobs"], group["unpriced_jobs"]) == ("USD", 1, 0)
    assert group["total"] == pytest.approx(group["estimated"]) and group["total"] > 0
