"""Fuzzing the hub against its own OpenAPI with schemathesis, over real HTTP.

At least 1,000 generated requests (valid ones and deliberately invalid ones) spread over
every operation except the endless event stream, sent as an agent, a bot and a buyer to
a real hub on SQLite. No answer may be a 5xx, and every answer must match what the
OpenAPI document says for its status code and content type.

The examples are derandomized (same cases every run, so CI is stable); set
WARMLINE_FUZZ_SEED to explore other ones, WARMLINE_FUZZ_CASES to change the total.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

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
)
from schemathesis.generation import GenerationMode

from warmline.hub.embedded import EmbeddedHub
from warmline.hub.settings import HubSettings

from .conftest import new_conversation, packet

TOTAL_CASES = int(os.environ.get("WARMLINE_FUZZ_CASES", "1200"))
SKIP = {("GET", "/v1/events")}  # an endless stream: covered by test_events.py


@pytest.fixture(scope="module")
def fuzz_hub(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EmbeddedHub, dict[str, str], dict[str, str]]]:
    db = tmp_path_factory.mktemp("fuzz") / "warmline.db"
    hub = EmbeddedHub(HubSettings(database_url=f"sqlite:///{db}", host="127.0.0.1", port=0))
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


def test_fuzz_the_openapi_schema(fuzz_hub: tuple[EmbeddedHub, dict[str, str], dict[str, str]]) -> None:
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
    failures: list[str] = []
    fixed_seed = os.environ.get("WARMLINE_FUZZ_SEED")

    def runner(operation: schemathesis.APIOperation, mode: GenerationMode, path: dict | None = None):
        @settings(
            max_examples=per_operation,
            deadline=None,
            database=None,
            derandomize=fixed_seed is None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        @given(
            case=operation.as_strategy(generation_mode=mode, path_parameters=path),
            who=st.sampled_from(sorted(tokens)),
        )
        def run(case: schemathesis.Case, who: str) -> None:
            response = case.call(
                base_url=hub.base_url, headers={"Authorization": f"Bearer {tokens[who]}"}, timeout=15
            )
            statuses[(operation.label, response.status_code)] += 1
            try:
                case.validate_response(
                    response,
                    checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
                )
            except (Exception, BaseExceptionGroup) as exc:  # collect every failure, report them together
                failures.append(f"{operation.label} as {who} [{response.status_code}]: {exc}"[:1500])

        return run if fixed_seed is None else seed(int(fixed_seed))(run)

    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        real = {name: ids[name] for name in names if name in ids}
        passes = [(GenerationMode.POSITIVE, None), (GenerationMode.NEGATIVE, None)]
        if real and len(real) == len(names):
            passes.append((GenerationMode.POSITIVE, real))
        for mode, path in passes:
            try:
                runner(operation, mode, path)()
            except Unsatisfiable:  # nothing to make invalid (e.g. GET /v1/health takes no input)
                assert mode is GenerationMode.NEGATIVE, operation.label

    total = sum(statuses.values())
    by_status = Counter(code for _label, code in statuses.elements())
    print(f"fuzz: {total} cases over {len(operations)} operations; by status: {dict(by_status)}")
    assert total >= 1000, f"only {total} cases were generated"
    assert not any(code >= 500 for (_label, code) in statuses), statuses
    assert not failures, "\n\n".join(sorted(set(failures))[:20])
