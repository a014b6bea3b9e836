"""The optional language-model judge against a real loopback OpenAI-compatible server.

The fake server is a real HTTP server on 127.0.0.1 (a thread running ``http.server``) that
answers ``POST /chat/completions`` from a script; the engine talks to it through ``LLMJudge``
exactly as it would to Ollama or vLLM. Failures (HTTP 500, text outside the schema, a reply
slower than the policy's timeout) must leave the local decision in place.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from warmline.escalation.engine import EscalationEngine
from warmline.escalation.judge import LLMJudge
from warmline.escalation.policy import Policy

from .conftest import Chat


class FakeLLM:
    """What the fake endpoint answers next, and the requests it saw."""

    def __init__(self) -> None:
        self.reply: dict | str = {}
        self.status = 200
        self.delay = 0.0
        self.requests: list[dict] = []


@pytest.fixture
def fake_llm() -> Iterator[tuple[FakeLLM, str]]:
    state = FakeLLM()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            state.requests.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
            time.sleep(state.delay)
            content = state.reply if isinstance(state.reply, str) else json.dumps(state.reply)
            body = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
            self.send_response(state.status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def _engine(engine: EscalationEngine, url: str, **judge: object) -> EscalationEngine:
    policy = Policy.load()
    for key, value in judge.items():
        setattr(policy.judge, key, value)
    return EscalationEngine(
        policy=policy, catalog=engine.catalog, judge=LLMJudge(url, "tiny-judge", timeout=5)
    )


async def test_tie_break_lets_the_judge_decide_an_uncertain_turn(engine, fake_llm) -> None:
    fake, url = fake_llm
    fake.reply = {"outcome": "escalate", "reason": "live_data", "confidence": 0.7,
                  "evidence": "when could it be on site"}  # fmt: skip
    judged = _engine(engine, url, mode="tie_break", tie_band=1.0)
    decision = await Chat(judged).say("What's the rated torque of HG-0220-041?")
    assert decision.outcome.value == "escalate" and decision.reason.value == "live_data"
    assert decision.sub_reason == "llm_judge"
    assert "llm_judge" in decision.packet.signals, "the packet says the judge decided"
    request = fake.requests[-1]
    assert request["path"] == "/v1/chat/completions"
    schema = request["body"]["response_format"]["json_schema"]["schema"]
    assert set(schema["required"]) == {"outcome", "reason", "confidence", "evidence"}
    assert "HG-0220-041" in request["body"]["messages"][-1]["content"]

    # outside the uncertain band the judge is not asked
    confident = _engine(engine, url, mode="tie_break", tie_band=0.01)
    before = len(fake.requests)
    decision = await Chat(confident).say("What's the rated torque of HG-0220-041?")
    assert decision.outcome.value == "answer" and len(fake.requests) == before


async def test_veto_unnecessary_cancels_a_handoff_but_never_an_explicit_request(engine, fake_llm) -> None:
    fake, url = fake_llm
    fake.reply = {"outcome": "answer", "reason": None, "confidence": 0.95, "evidence": "a routine question"}
    vetoing = _engine(engine, url, mode="veto_unnecessary", veto_confidence=0.8)
    local = await Chat(engine).say("Is the GX-220 in stock?")
    assert local.outcome.value == "escalate" and local.reason.value == "live_data"
    decision = await Chat(vetoing).say("Is the GX-220 in stock?")
    assert decision.outcome.value != "escalate"
    assert any(s.name == "llm_judge" and "veto_unnecessary" in s.detail for s in decision.signals)

    before = len(fake.requests)
    decision = await Chat(vetoing).say("I want to talk to a sales engineer")
    assert decision.reason.value == "explicit_request", "a person asked for is never vetoed"
    assert len(fake.requests) == before

    fake.reply = {"outcome": "answer", "reason": None, "confidence": 0.5, "evidence": "unsure"}
    decision = await Chat(vetoing).say("Is the GX-220 in stock?")
    assert decision.outcome.value == "escalate", "an unsure judge does not veto"


@pytest.mark.parametrize("failure", ["http_500", "not_the_schema", "too_slow", "unreachable"])
async def test_judge_failures_keep_the_local_decision(engine, fake_llm, failure: str) -> None:
    fake, url = fake_llm
    fake.reply = {"outcome": "answer", "reason": None, "confidence": 0.99, "evidence": "x"}
    if failure == "http_500":
        fake.status = 500
    elif failure == "not_the_schema":
        fake.reply = "Sure! I think a human should take this."
    elif failure == "too_slow":
        fake.delay = 1.5
    elif failure == "unreachable":
        url = "http://127.0.0.1:9/v1"
    judged = _engine(engine, url, mode="veto_unnecessary", timeout_seconds=0.5)
    started = time.monotonic()
    decision = await Chat(judged).say("Is the GX-220 in stock?")
    assert decision.outcome.value == "escalate" and decision.reason.value == "live_data"
    assert any(s.name == "llm_judge_unavailable" for s in decision.signals)
    assert time.monotonic() - started < 5, "a slow judge is abandoned at the policy's timeout"


async def test_mode_off_never_calls_the_judge(engine, fake_llm) -> None:
    fake, url = fake_llm
    judged = _engine(engine, url, mode="off")
    decision = await Chat(judged).say("Is the GX-220 in stock?")
    assert decision.reason.value == "live_data" and fake.requests == []


def test_judge_is_optional() -> None:
    from warmline.escalation.llm import LLMSettings

    assert LLMJudge.from_settings(LLMSettings(base_url="", model="")) is None
