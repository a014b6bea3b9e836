"""The assistant's job state: merges POST answers, events and lists; forward-only; dedupe by id."""

from __future__ import annotations

from datetime import timedelta

from warmline.console.models.assist_model import REFUSED, SUBMITTING, AssistModel, newer
from warmline.domain.assist import AssistJob, AssistKind, AssistRequest, AssistResult, AssistStatus
from warmline.domain.models import AgentRef

from .factories import T0

ANNA = AgentRef(id="ag-anna", name="Anna")
BOB = AgentRef(id="ag-bob", name="Bob")
SPEC = AssistRequest(kind=AssistKind.SPEC, skus=["GX-240"])
SUBS = AssistRequest(kind=AssistKind.SUBSTITUTES, skus=["GX-220"], constraints=["ip>=65"])


def job(
    jid: str,
    status: AssistStatus = AssistStatus.QUEUED,
    *,
    request: AssistRequest = SPEC,
    handoff: str = "h1",
    progress: float = 0.0,
    stage: str = "",
    by: AgentRef = ANNA,
    at: int = 0,
) -> AssistJob:
    return AssistJob(
        id=jid,
        handoff_id=handoff,
        conversation_id=f"c-{handoff}",
        kind=request.kind,
        status=status,
        request=request,
        requested_by=by,
        created_at=T0 + timedelta(seconds=at),
        progress=progress,
        stage=stage,
        result=AssistResult(title="GX-240", text="GX-240: 240 N·m") if status is AssistStatus.DONE else None,
        error="boom" if status is AssistStatus.FAILED else None,
    )


def test_pending_entry_gets_its_job_from_the_post_answer_and_then_events(qapp):
    m = AssistModel()
    m.agent_id = ANNA.id
    changed = []
    m.changed.connect(changed.append)
    e = m.add_pending("k1", "h1", SPEC)
    assert e.status == SUBMITTING and e.active
    m.apply_job(job("j1"), key="k1")
    assert e.job_id == "j1" and e.status == "queued"
    m.apply_job(job("j1", AssistStatus.RUNNING, progress=0.5, stage="reading datasheets"))
    m.apply_job(job("j1", AssistStatus.DONE, progress=1.0))
    assert e.status == "done" and e.finished and e.job.result.title == "GX-240"
    assert [x.key for x in m.entries("h1")] == ["k1"]
    assert len(changed) == 3


def test_event_before_the_post_answer_is_held_until_the_answer_names_the_job(qapp):
    m = AssistModel()
    m.agent_id = ANNA.id
    e = m.add_pending("k1", "h1", SPEC)
    assert m.apply_job(job("j1", AssistStatus.RUNNING, progress=0.3)) is None  # event first: held
    assert e.job is None and len(m.entries("h1")) == 1
    m.apply_job(job("j1"), key="k1")  # the late 202 answer (queued) must not move it back
    assert e.job_id == "j1" and e.status == "running" and e.job.progress == 0.3
    assert len(m.entries("h1")) == 1


def test_same_request_twice_events_out_of_order_each_entry_gets_its_own_job(qapp):
    m = AssistModel()
    m.agent_id = ANNA.id
    a = m.add_pending("ka", "h1", SPEC)
    b = m.add_pending("kb", "h1", SPEC)
    m.apply_job(job("jb", AssistStatus.DONE, progress=1.0))  # b's job finishes before any answer
    m.apply_job(job("ja", AssistStatus.RUNNING, progress=0.5))
    m.apply_job(job("ja"), key="ka")
    m.apply_job(job("jb"), key="kb")
    assert (a.job_id, a.status) == ("ja", "running")
    assert (b.job_id, b.status) == ("jb", "done")
    assert [e.key for e in m.entries("h1")] == ["ka", "kb"]
    m.apply_job(job("ja", AssistStatus.DONE, progress=1.0))
    assert a.status == "done" and len(m.entries("h1")) == 2


def test_a_held_job_nobody_claims_shows_once_the_posts_are_answered(qapp):
    m = AssistModel()
    m.agent_id = ANNA.id
    mine = m.add_pending("k1", "h1", SPEC)
    m.apply_job(job("j-other-console", AssistStatus.DONE, progress=1.0))  # same agent, another window
    assert len(m.entries("h1")) == 1
    m.apply_job(job("j1"), key="k1")
    assert mine.job_id == "j1"
    assert sorted(e.key for e in m.entries("h1")) == ["j-other-console", "k1"]


def test_someone_elses_job_never_adopts_my_pending_entry(qapp):
    m = AssistModel()
    m.agent_id = ANNA.id
    mine = m.add_pending("k1", "h1", SPEC)
    m.apply_job(job("jb", AssistStatus.RUNNING, by=BOB))
    assert mine.job is None
    assert [x.key for x in m.entries("h1")] == ["k1", "jb"]


def test_status_only_moves_forward_and_replays_are_ignored(qapp):
    m = AssistModel()
    m.apply_job(job("j1", AssistStatus.DONE, progress=1.0))
    m.apply_job(job("j1", AssistStatus.RUNNING, progress=0.9))  # replayed after reconnect
    m.apply_job(job("j1", AssistStatus.DONE, progress=1.0))  # duplicate
    e = m.by_job("j1")
    assert e.status == "done" and m.updates_ignored == 2
    assert not newer(
        job("x", AssistStatus.RUNNING, progress=0.6), job("x", AssistStatus.RUNNING, progress=0.5)
    )
    assert newer(job("x", AssistStatus.RUNNING, progress=0.5), job("x", AssistStatus.CANCELLED))
    assert not newer(job("x", AssistStatus.CANCELLED), job("x", AssistStatus.DONE))


def test_list_on_reopen_merges_with_what_we_have_oldest_first(qapp):
    m = AssistModel()
    m.apply_job(job("j2", AssistStatus.RUNNING, at=2))
    m.apply_many([job("j2", AssistStatus.DONE, at=2), job("j1", AssistStatus.DONE, request=SUBS, at=1)])
    assert [e.key for e in m.entries("h1")] == ["j2", "j1"]  # known first, then new ones in time order
    assert m.by_job("j2").status == "done"
    assert m.entries("other") == [] and m.entries(None) == []


def test_refused_post_keeps_why_and_closest_and_find_skips_it(qapp):
    m = AssistModel()
    e = m.add_pending("k1", "h1", SPEC)
    m.refuse("k1", "skus: product 'GX-24' not found", ["GX-240", "GX-220"])
    assert e.status == REFUSED and e.finished and e.closest == ["GX-240", "GX-220"]
    assert m.find("h1", SPEC) is None
    m.apply_job(job("j9", AssistStatus.DONE, at=5))
    assert m.find("h1", AssistRequest(kind=AssistKind.SPEC, skus=["gx-240"])).job_id == "j9"
    assert m.find("h1", SUBS) is None
    assert m.active("h1") == []


def test_replayed_post_for_a_known_job_drops_the_pending_duplicate(qapp):
    m = AssistModel()
    removed = []
    m.removed.connect(removed.append)
    m.apply_many([job("j1", AssistStatus.FAILED)])  # listed on reopen
    dup = m.add_pending("auto-key", "h1", SPEC)
    m.apply_job(job("j1", AssistStatus.FAILED), key="auto-key")  # the idempotent replay names j1
    assert removed == [dup] and m.entry("auto-key") is None
    assert [e.key for e in m.entries("h1")] == ["j1"]
