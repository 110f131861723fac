"""Deterministic fault injection: a plan of rules saying which requests go wrong, and how.

    SPEC   := RULE ("," RULE)*
    RULE   := [TARGET ":"] FAULT ["=" ARG] ["*" [TIMES] | "%" PERCENT] ["+" SKIP]
    TARGET := create | status | content | list | any                  (default any)

TIMES is how many matching requests get the fault (default 1; `*` alone or `*inf`:
every one); `%P` gives each matching request the fault with probability P percent,
drawn from a generator seeded by the plan's seed, so a run replays exactly. The
first SKIP matching requests pass untouched. Rules are tried in order and the first
whose target matches and whose schedule fires applies.

The plan only decides; `framecast.emulator.disrupt` shapes the answer, and each
transport (socket server, in-process httpx transport) carries out what a transport
must: resets, cut bodies and slow answers.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

TARGETS = ("create", "status", "content", "list", "any")
ERRORS = ("429", "500", "502", "503")
FAULTS = (
    *ERRORS,
    "reset-before",
    "reset-after",
    "slow",
    "cut",
    "cut-nolength",
    "malformed",
    "html",
    "fail",
    "expire",
)
# Faults that only mean something for one kind of request, and default to it.
_ONLY = {"fail": "create", "expire": "content"}
# Faults taking `=ARG` (seconds), and the default; 503's Retry-After is sent only when asked.
ARG_DEFAULTS: dict[str, float | None] = {"429": 1.0, "503": None, "slow": 5.0}

_RULE = re.compile(
    r"(?:(?P<target>[a-z]+):)?(?P<fault>[a-z0-9-]+)"
    r"(?:=(?P<arg>[^*%+]*))?"
    r"(?:(?P<schedule>[*%])(?P<count>[^+]*))?"
    r"(?:\+(?P<skip>.*))?"
)
_OPENAI = re.compile(r"(?P<prefix>/openai/v1|/v1)(?P<rest>/.*)")
_CREATE = re.compile(r"/videos(?:/edits|/extensions|/[^/]+/remix)?")
_STATUS = re.compile(r"/videos/[^/]+")
_CONTENT = re.compile(r"/videos/[^/]+/content")


@dataclass(frozen=True, slots=True)
class Rule:
    target: str
    fault: str
    arg: float | None = None
    times: int | None = 1  # None: every matching request
    percent: float | None = None  # when set, a draw per request replaces `times`
    skip: int = 0

    @property
    def label(self) -> str:
        """The fault as logs name it, e.g. `429=2.5`."""
        return self.fault if self.arg is None else f"{self.fault}={self.arg:g}"

    def matches(self, target: str) -> bool:
        return self.target in ("any", target)


def _number(text: str, what: str, rule: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise ValueError(f"fault rule {rule!r}: {what} must be a non-negative number, not {text!r}")
    return value


def _count(text: str, what: str, rule: str, minimum: int) -> int:
    if not text.isdigit() or int(text) < minimum:
        raise ValueError(
            f"fault rule {rule!r}: {what} must be a whole number of at least {minimum}, "
            f"not {text!r}"
        )
    return int(text)


def parse_rule(text: str) -> Rule:
    rule = text.strip().lower()
    match = _RULE.fullmatch(rule)
    if not rule or match is None:
        raise ValueError(
            f"fault rule {text.strip()!r} is not of the form "
            "[TARGET:]FAULT[=ARG][*TIMES|%PERCENT][+SKIP]"
        )
    fault = match["fault"]
    if fault not in FAULTS:
        known = ", ".join(FAULTS)
        raise ValueError(f"fault rule {rule!r}: unknown fault {fault!r}; known: {known}")
    target = match["target"] or _ONLY.get(fault, "any")
    if target not in TARGETS:
        raise ValueError(
            f"fault rule {rule!r}: unknown target {target!r}; known: {', '.join(TARGETS)}"
        )
    if fault in _ONLY and target != _ONLY[fault]:
        raise ValueError(f"fault rule {rule!r}: {fault} applies only to {_ONLY[fault]} requests")
    arg = ARG_DEFAULTS.get(fault)
    if match["arg"] is not None:
        if fault not in ARG_DEFAULTS:
            raise ValueError(
                f"fault rule {rule!r}: {fault} takes no =ARG "
                f"(only {', '.join(ARG_DEFAULTS)} take one, in seconds)"
            )
        arg = _number(match["arg"], "=ARG", rule)
    times: int | None = 1
    percent = None
    if match["schedule"] == "*":
        count = match["count"]
        times = None if count in ("", "inf") else _count(count, "*TIMES", rule, 1)
    elif match["schedule"] == "%":
        percent = _number(match["count"], "%PERCENT", rule)
        if percent > 100:
            raise ValueError(f"fault rule {rule!r}: %PERCENT must be at most 100")
        times = None
    skip = 0 if match["skip"] is None else _count(match["skip"], "+SKIP", rule, 0)
    return Rule(target, fault, arg, times, percent, skip)


def parse(spec: str) -> list[Rule]:
    """The rules of a SPEC; an empty SPEC has none. Raises ValueError saying what is wrong."""
    if not spec.strip():
        return []
    return [parse_rule(part) for part in spec.split(",")]


class FaultPlan:
    """Rules with their per-rule counters; safe to consult from many server threads."""

    def __init__(self, rules: Sequence[Rule] = (), seed: int = 0) -> None:
        self.rules = tuple(rules)
        self.seed = seed
        self._matched = [0] * len(self.rules)
        self._fired = [0] * len(self.rules)
        # One generator per rule, so one rule's draws do not shift another's.
        self._draws = [random.Random(f"{seed}/{i}") for i in range(len(self.rules))]
        # The per-request header form has no counters, but its % draws need a generator.
        self._header_draws = random.Random(f"{seed}/header")
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, spec: str, seed: int = 0) -> FaultPlan:
        return cls(parse(spec), seed)

    def pick(self, target: str) -> Rule | None:
        """The rule that fires for the next request of this kind, if any (and count it)."""
        with self._lock:
            for i, rule in enumerate(self.rules):
                if not rule.matches(target):
                    continue
                self._matched[i] += 1
                if self._matched[i] <= rule.skip:
                    continue
                if rule.percent is not None:
                    if self._draws[i].random() * 100 >= rule.percent:
                        continue
                elif rule.times is not None and self._fired[i] >= rule.times:
                    continue
                self._fired[i] += 1
                return rule
        return None

    def pick_once(self, rules: Sequence[Rule], target: str) -> Rule | None:
        """The rule of a one-request SPEC (the header form) that fires: TIMES and SKIP ignored."""
        with self._lock:
            for rule in rules:
                if not rule.matches(target):
                    continue
                if rule.percent is not None and self._header_draws.random() * 100 >= rule.percent:
                    continue
                return rule
        return None


def classify(method: str, path: str) -> str:
    """Which TARGET a request is: create, status, content, list, or other (only `any`)."""
    path = path.rstrip("/") or "/"
    if path.startswith("/media/"):
        return "content" if method == "GET" else "other"
    openai = _OPENAI.fullmatch(path)
    if openai is not None:
        rest = openai["rest"]
        if method == "POST":
            return "create" if _CREATE.fullmatch(rest) else "other"
        if method != "GET":
            return "other"
        if rest == "/videos":
            return "list"
        if _CONTENT.fullmatch(rest):
            return "content"
        if _STATUS.fullmatch(rest):
            return "status"
        # Request history is native Lumenfall, not served under /openai/v1.
        if openai["prefix"] == "/v1" and (rest == "/requests" or rest.startswith("/requests/")):
            return "list"
        return "other"
    if path.startswith("/api/"):
        rest = path.removeprefix("/api")
        if method == "POST" and rest in ("/generate-video", "/generate-video/extend"):
            return "create"
        if method == "GET" and rest == "/video/status":
            return "status"
        if method == "GET" and rest == "/generate-video/recover":
            return "list"
    return "other"
