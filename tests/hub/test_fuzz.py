"""Fuzzing the hub against its own OpenAPI with schemathesis, over real HTTP, on SQLite
and on PostgreSQL (issue 19: the audit's 500s were PostgreSQL-only).

Two passes per database, sent as an agent, a bot and a buyer to a real hub:

- schemathesis: at least 1,000 generated requests (valid and deliberately invalid; its
  strings include NUL, its ``date-time`` values span years 1..9999 at offsets up to +-14 h)
  over every operation but the endless event stream. Every answer must be a status the
  OpenAPI document lists for the operation (so no undocumented 400), never a 5xx but 503,
  and match the documented schema and content type.
- hostile: schemathesis' valid requests with one body value, query value or path id
  swapped for something the audit broke the hub with -- NUL, lone surrogates, NaN and
  +-Infinity, 1e999999-sized and 400-digit numbers, extreme timestamps -- sent as raw JSON.
  The same status rules hold, hostile text and numbers in a body are 422 naming where they
  were, and afterwards every handoff and conversation still reads back (no row stored that
  the database cannot hand back).

An event-loop watchdog (``LoopWatchdog``) runs on the hub's loop throughout: no single
request may keep it busy for more than 100 ms. Counts, statuses and the loop's worst lag
are printed (``-s``). The examples are derandomized (same cases every run, so CI is
stable); set WARMLINE_FUZZ_SEED to explore other ones, WARMLINE_FUZZ_CASES to change the
total, WARMLINE_FUZZ_HOSTILE the hostile cases per operation.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from warmline.hub.embedded import EmbeddedHub
from warmline.hub.settings import HubSettings

from .conftest import bearer, new_conversation, packet
from .loop_watchdog import LoopWatchdog

TOTAL_CASES = int(os.environ.get("WARMLINE_FUZZ_CASES", "1200"))
HOSTILE_PER_OPERATION = int(os.environ.get("WARMLINE_FUZZ_HOSTILE", "12"))
SKIP = {("GET", "/v1/events")}  # an endless stream: covered by test_events.py

# --- what the audit broke the hub with -------------------------------------------------

EXTREME_TIMES = [
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999+00:00",
    "1969-12-31T23:59:59Z",
]
BAD_TEXT = st.builds(
    lambda head, bad, tail: head + bad + tail,
    st.text(max_size=4),
    st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d", "\x00\ud800"]),
    st.text(max_size=4),
)
BAD_NUMBERS = st.sampled_from([math.inf, -math.inf, math.nan, 10**400, -(10**30), 2**63])
EXTREME = st.sampled_from(EXTREME_TIMES)
# catalog filter syntax that once reached a bind-parameter position (issue 18 item 9): valid
# text, so any documented answer will do, never a 5xx
ODD_SYNTAX = st.sampled_from(
    ["gearbox manufacturer:-:x", "manufacturer:(:n)", "torque>=:x", "::", ":1 :name", "ip>=65 %:_"]
)
# hostile text and numbers are refused wherever they are in a body; a timestamp is only
# refused where the field is one
HOSTILE = st.one_of(
    BAD_TEXT.map(lambda v: ("text", v)),
    BAD_NUMBERS.map(lambda v: ("number", v)),
    EXTREME.map(lambda v: ("time", v)),
    ODD_SYNTAX.map(lambda v: ("syntax", v)),
)

# schemathesis' own date-time values: any instant in years 1..9999 at extreme offsets
_OFFSETS = [UTC, timezone(timedelta(hours=5)), timezone(timedelta(hours=-14)), timezone(timedelta(hours=14))]
schemathesis.openapi.format(
    "date-time",
    st.one_of(
        EXTREME,
        st.datetimes(
            min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from(_OFFSETS)
        ).map(lambda d: d.isoformat()),
    ),
)


@pytest.fixture
def fuzz_hub(database_url: str) -> Iterator[tuple[EmbeddedHub, dict[str, str], dict[str, str]]]:
    hub = EmbeddedHub(HubSettings(database_url=database_url, host="127.0.0.1", port=0))
    hub.start()
    try:
        _agent, agent_token = hub.create_agent("fuzz-agent", ["all"], "Fuzz Agent")
        bot = hub.create_bot("fuzz-bot")
        r = httpx.post(
            f"{hub.base_url}/v1/handoffs",
            json={"conversation": new_conversation(), "packet": packet()},
            headers={"Authorization": f"Bearer {bot}"},
        )
        assert r.status_code == 201, r.text
        created = r.json()
        tokens = {"agent": agent_token, "bot": bot, "buyer": created["buyer_token"]}
        # real ids, so generated requests also reach past "404 unknown id" into the handlers
        handoff = created["handoff"]
        ids = {"handoff_id": handoff["id"], "conversation_id": handoff["conversation_id"]}
        yield hub, tokens, ids
    finally:
        hub.stop()


def _documented(operation: schemathesis.APIOperation) -> set[int]:
    return {int(code) for code in operation.definition.raw.get("responses", {}) if str(code).isdigit()}


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document a value can be swapped (containers included)."""
    out = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _leaves(item, (*path, i))
    return out


def _swap(doc: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {**doc, head: _swap(doc[head], rest, new)}
    copy = list(doc)
    copy[head] = _swap(copy[head], rest, new)
    return copy


def test_fuzz_the_openapi_schema(
    fuzz_hub: tuple[EmbeddedHub, dict[str, str], dict[str, str]], request: pytest.FixtureRequest
) -> None:
    hub, tokens, ids = fuzz_hub
    assert hub.base_url is not None
    schema = schemathesis.openapi.from_url(f"{hub.base_url}/openapi.json")
    operations = [
        op
        for op in (result.ok() for result in schema.get_all_operations())
        if (op.method.upper(), op.path) not in SKIP
    ]
    assert len(operations) >= 10, [o.label for o in operations]
    per_operation = max(10, TOTAL_CASES // (2 * len(operations)))
    statuses: Counter[tuple[str, int]] = Counter()
    hostile: Counter[tuple[str, int]] = Counter()
    failures: list[str] = []
    fixed_seed = os.environ.get("WARMLINE_FUZZ_SEED")
    client = httpx.Client(base_url=hub.base_url, timeout=15)

    def hypothesis_settings(examples: int) -> Any:
        return settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=fixed_seed is None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )

    def runner(operation: schemathesis.APIOperation, mode: GenerationMode, path: dict | None = None):
        @hypothesis_settings(per_operation)
        @given(
            case=operation.as_strategy(generation_mode=mode, path_parameters=path),
            who=st.sampled_from(sorted(tokens)),
        )
        def run(case: schemathesis.Case, who: str) -> None:
            dog.note = (
                f"{operation.label} as {who}: {case.path_parameters} {case.query} {str(case.body)[:200]}"
            )
            try:
                response = case.call(
                    base_url=hub.base_url, headers={"Authorization": f"Bearer {tokens[who]}"}, timeout=15
                )
            except Exception as exc:  # (requests' errors: the hub dropped the connection)
                failures.append(f"{operation.label} as {who}: no answer: {exc!r}"[:1500])
                return
            statuses[(operation.label, response.status_code)] += 1
            try:
                case.validate_response(
                    response,
                    checks=[
                        not_a_server_error,
                        status_code_conformance,
                        response_schema_conformance,
                        content_type_conformance,
                    ],
                )
            except (Exception, BaseExceptionGroup) as exc:  # collect every failure, report them together
                failures.append(f"{operation.label} as {who} [{response.status_code}]: {exc}"[:1500])

        return run if fixed_seed is None else seed(int(fixed_seed))(run)

    def hostile_runner(operation: schemathesis.APIOperation, path: dict | None):
        documented = _documented(operation)

        @hypothesis_settings(HOSTILE_PER_OPERATION)
        @given(
            case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=path),
            who=st.sampled_from(sorted(tokens)),
            bad=HOSTILE,
            data=st.data(),
        )
        def run(case: schemathesis.Case, who: str, bad: tuple[str, Any], data: st.DataObject) -> None:
            kind, value = bad
            body = case.body if isinstance(case.body, dict | list) else None
            places = ["body"] if body is not None and _leaves(body) else []
            places += ["query"] * bool(case.query) + ["path"] * bool(case.path_parameters)
            if not places:
                return
            where = data.draw(st.sampled_from(places))
            params = dict(case.path_parameters or {})
            query = dict(case.query or {})
            text = value if isinstance(value, str) else json.dumps(value)
            if where == "body":
                spot = data.draw(st.sampled_from(_leaves(body)))
                body = _swap(body, spot, value)
            elif where == "query":
                query[data.draw(st.sampled_from(sorted(query)))] = text
            else:
                params[data.draw(st.sampled_from(sorted(params)))] = text
            url = operation.path.format(
                **{k: quote(str(v).encode("utf-8", "surrogatepass"), safe="") for k, v in params.items()}
            )
            if query:
                url += "?" + "&".join(
                    f"{quote(str(k), safe='')}={quote(str(v).encode('utf-8', 'surrogatepass'), safe='')}"
                    for k, v in query.items()
                )
            headers = {**bearer(tokens[who]), "content-type": "application/json"}
            content = None if body is None else json.dumps(body).encode()
            dog.note = f"hostile {operation.label} as {who}: {url[:200]} {(content or b'')[:200]!r}"
            try:
                r = client.request(operation.method.upper(), url, content=content, headers=headers)
            except httpx.TransportError as exc:  # a 500 on the fast path drops the connection
                failures.append(f"hostile: {operation.label} as {who}, {kind} {value!r} in {where}: {exc!r}")
                return
            hostile[(operation.label, r.status_code)] += 1
            what = f"{operation.label} as {who}, {kind} {value!r} in {where} [{r.status_code}]"
            if (r.status_code >= 500 and r.status_code != 503) or r.status_code not in documented:
                failures.append(f"hostile: {what}: undocumented or server error: {r.text[:300]}")
            elif where == "body" and kind in ("text", "number") and r.status_code != 422:
                failures.append(f"hostile: {what}: not refused: {r.text[:300]}")
            elif r.status_code == 422 and not isinstance(r.json().get("detail"), list | dict):
                failures.append(f"hostile: {what}: 422 without detail: {r.text[:300]}")

        return run if fixed_seed is None else seed(int(fixed_seed))(run)

    dog = LoopWatchdog(hub, request)
    with dog:
        for operation in operations:
            names = {p.name for p in operation.path_parameters}
            real = {name: ids[name] for name in names if name in ids}
            has_real = bool(real) and len(real) == len(names)
            passes = [(GenerationMode.POSITIVE, None), (GenerationMode.NEGATIVE, None)]
            if has_real:
                passes.append((GenerationMode.POSITIVE, real))
            for mode, path in passes:
                try:
                    runner(operation, mode, path)()
                except Unsatisfiable:  # nothing to make invalid (e.g. GET /v1/health takes no input)
                    assert mode is GenerationMode.NEGATIVE, operation.label
            with contextlib.suppress(Unsatisfiable):
                hostile_runner(operation, real if has_real else None)()
        # nothing the fuzz stored is unreadable: every handoff and conversation reads back
        agent = bearer(tokens["agent"])
        r = client.get(
            "/v1/handoffs", params={"status": "queued,claimed,resolved", "limit": 20000}, headers=agent
        )
        assert r.status_code == 200, r.text
        for item in r.json()["items"]:
            for path in (f"/v1/handoffs/{item['id']}", f"/v1/conversations/{item['conversation_id']}"):
                got = client.get(path, headers=agent)
                if got.status_code != 200:
                    failures.append(f"read back {path}: {got.status_code} {got.text[:300]}")
    client.close()

    total = sum(statuses.values())
    by_status = Counter(code for _label, code in statuses.elements())
    hostile_total = sum(hostile.values())
    hostile_by_status = Counter(code for _label, code in hostile.elements())
    print(
        f"fuzz [{request.node.callspec.id}]: {total} schemathesis cases over {len(operations)} operations, "
        f"by status {dict(sorted(by_status.items()))}; {hostile_total} hostile cases, "
        f"by status {dict(sorted(hostile_by_status.items()))}; loop max busy {dog.max_busy * 1000:.0f} ms, "
        f"max lag {dog.max_lag * 1000:.0f} ms"
    )
    assert total >= 1000, f"only {total} cases were generated"
    assert hostile_total >= 10 * len(operations) // 2, f"only {hostile_total} hostile cases"
    assert not failures, "\n\n".join(sorted(set(failures))[:20])
    assert not any(code >= 500 and code != 503 for (_label, code) in statuses + hostile), statuses + hostile
