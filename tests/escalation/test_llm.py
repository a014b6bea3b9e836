"""The optional language model, against a small OpenAI-compatible server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from warmline.escalation.engine import EscalationEngine
from warmline.escalation.llm import ChatPhraser, LLMError, LLMSettings
from warmline.escalation.models import Outcome

from .conftest import Chat


class FakeOpenAI:
    """Answers POST /v1/chat/completions with whatever ``reply`` makes of the draft."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.reply = lambda draft: f"Certainly! {draft}"
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                draft = body["messages"][-1]["content"].split("Draft:\n", 1)[1]
                payload = json.dumps(
                    {"choices": [{"message": {"role": "assistant", "content": outer.reply(draft)}}]}
                )
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


async def test_model_rephrases_and_facts_stay(engine: EscalationEngine, fake_llm: FakeOpenAI) -> None:
    phraser = ChatPhraser(fake_llm.url, "tiny-model", api_key="secret")
    try:
        worded = EscalationEngine(policy=engine.policy, catalog=engine.catalog, llm=phraser)
        decision = await Chat(worded).say("What's the rated torque of the GX-220?")
    finally:
        await phraser.aclose()
    assert decision.outcome is Outcome.ANSWER
    assert decision.reply.startswith("Certainly! GX-220") and "220 N·m" in decision.reply
    request = fake_llm.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["model"] == "tiny-model"
    assert request["auth"] == "Bearer secret"


async def test_rephrasing_that_drops_a_fact_is_ignored(
    engine: EscalationEngine, fake_llm: FakeOpenAI
) -> None:
    fake_llm.reply = lambda draft: "It has plenty of torque."
    phraser = ChatPhraser(fake_llm.url, "tiny-model")
    try:
        worded = EscalationEngine(policy=engine.policy, catalog=engine.catalog, llm=phraser)
        decision = await Chat(worded).say("What's the rated torque of the GX-220?")
    finally:
        await phraser.aclose()
    assert "220 N·m" in decision.reply and "plenty" not in decision.reply


async def test_failing_endpoint_falls_back_to_the_deterministic_reply(
    engine: EscalationEngine, fake_llm: FakeOpenAI
) -> None:
    fake_llm.status = 500
    phraser = ChatPhraser(fake_llm.url, "tiny-model")
    try:
        with pytest.raises(LLMError, match="failed"):
            await phraser.rephrase("hello")
        worded = EscalationEngine(policy=engine.policy, catalog=engine.catalog, llm=phraser)
        decision = await Chat(worded).say("What's the rated torque of the GX-220?")
        plain = await Chat(engine).say("What's the rated torque of the GX-220?")
    finally:
        await phraser.aclose()
    assert decision.reply == plain.reply


async def test_unreachable_endpoint_falls_back(engine: EscalationEngine) -> None:
    phraser = ChatPhraser("http://127.0.0.1:9/v1", "tiny-model", timeout=2)
    try:
        worded = EscalationEngine(policy=engine.policy, catalog=engine.catalog, llm=phraser)
        decision = await Chat(worded).say("Which pump should I use for this coolant loop?")
    finally:
        await phraser.aclose()
    assert decision.outcome is Outcome.CLARIFY and decision.reply.endswith("?")


def test_settings_decide_whether_there_is_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WARMLINE_LLM_BASE_URL", raising=False)
    assert ChatPhraser.from_settings(LLMSettings()) is None
    monkeypatch.setenv("WARMLINE_LLM_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("WARMLINE_LLM_MODEL", "llama3.2")
    assert isinstance(ChatPhraser.from_settings(), ChatPhraser)
