"""The queue's Qt models without any widget or hub: events in, rows out."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from warmline.console.models.queue_model import (
    COL_AGE,
    COL_COMPANY,
    COL_EXPERTISE,
    COL_PRIORITY,
    COL_REASON,
    COL_STATUS,
    IdRole,
    MineRole,
    QueueModel,
    format_age,
)
from warmline.console.models.queue_proxy import QueueFilterProxy
from warmline.domain.models import AgentRef, HandoffStatus
from warmline.domain.packet import Priority, ReasonCategory

from . import factories as f

pytestmark = pytest.mark.usefixtures("qapp")


def make(agent=None):
    model = QueueModel()
    model.set_agent(agent or f.agent())
    proxy = QueueFilterProxy()
    proxy.setSourceModel(model)
    return model, proxy


def proxy_ids(proxy) -> list[str]:
    return [proxy.index(r, 0).data(IdRole) for r in range(proxy.rowCount())]


def test_rows_sorted_by_priority_then_oldest_first():
    model, proxy = make()
    a = f.summary(priority=Priority.NORMAL, age_s=500)
    b = f.summary(priority=Priority.URGENT, age_s=10)
    c = f.summary(priority=Priority.NORMAL, age_s=900)
    d = f.summary(priority=Priority.LOW, age_s=5000)
    e = f.summary(priority=Priority.URGENT, age_s=20)
    model.apply_many([a, b, c, d, e])
    assert model.ids() == [e.id, b.id, c.id, a.id, d.id]
    assert proxy_ids(proxy) == [e.id, b.id, c.id, a.id, d.id]
    # a live insert lands in its place, not at the end
    g = f.summary(priority=Priority.HIGH, age_s=1)
    model.apply(g)
    assert model.ids() == [e.id, b.id, g.id, c.id, a.id, d.id]


def test_batch_insert_uses_one_begin_end_into_an_empty_model():
    model, _ = make()
    inserted = []
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    model.apply_many([f.summary(age_s=i) for i in range(50)])
    assert inserted == [(0, 49)]
    assert model.rowCount() == 50


def test_columns_show_priority_reason_family_skills_company_age():
    model, _ = make()
    s = f.summary(
        priority=Priority.HIGH,
        reason=ReasonCategory.PURCHASE_INTENT,
        skills=("drives", "quotes"),
        company="Nordic Pulp AB",
        age_s=185,
    )
    model.apply(s)
    model.tick(f.T0.timestamp())
    text = [model.index(0, c).data() for c in range(model.columnCount())]
    assert text[COL_PRIORITY] == "High"
    assert text[COL_REASON] == "Purchase intent"
    assert text[COL_EXPERTISE] == "Drives & gearboxes, Quotes & pricing"
    assert text[COL_COMPANY] == "Nordic Pulp AB"
    assert text[COL_AGE] == "3m 05s"


def test_age_ticks_and_only_the_age_column_changes():
    model, proxy = make()
    model.apply_many([f.summary(age_s=30), f.summary(age_s=90)])
    changes = []
    model.dataChanged.connect(
        lambda tl, br, roles: changes.append((tl.row(), tl.column(), br.row(), br.column()))
    )
    proxy_changes = []
    proxy.dataChanged.connect(lambda tl, br, roles: proxy_changes.append((tl.column(), br.column())))
    model.tick(f.T0.timestamp())
    before = model.index(1, COL_AGE).data()
    model.tick(f.T0.timestamp() + 61)
    after = model.index(1, COL_AGE).data()
    assert before == "30s" and after == "1m 31s"
    assert changes == [(0, COL_AGE, 1, COL_AGE)] * 2
    assert proxy_changes and all(c == (COL_AGE, COL_AGE) for c in proxy_changes)


def test_claimed_by_someone_else_leaves_and_mine_stays_marked_first():
    me = f.agent("anna")
    other = f.agent("bob")
    model, _ = make(me)
    a, b, c = f.summary(age_s=300), f.summary(age_s=200), f.summary(age_s=100)
    model.apply_many([a, b, c])
    removed = []
    model.rowsRemoved.connect(lambda p, first, last: removed.append((first, last)))
    model.apply(
        b.model_copy(
            update={"status": HandoffStatus.CLAIMED, "claimed_by": AgentRef(id=other.id, name="bob")}
        )
    )
    assert model.ids() == [a.id, c.id]
    assert removed == [(1, 1)]
    mine = c.model_copy(
        update={"status": HandoffStatus.CLAIMED, "claimed_by": AgentRef(id=me.id, name="anna")}
    )
    model.apply(mine)
    assert model.ids() == [c.id, a.id]  # mine first
    assert model.index(0, COL_STATUS).data() == "Mine"
    assert model.index(0, 0).data(MineRole) is True
    assert model.index(1, COL_STATUS).data() == ""
    # releasing puts it back among the queued, by age
    model.apply(c.model_copy(update={"status": HandoffStatus.QUEUED}))
    assert model.ids() == [a.id, c.id]
    # resolving removes it
    model.apply(a.model_copy(update={"status": HandoffStatus.RESOLVED}))
    assert model.ids() == [c.id]
    # an update that keeps the position is a dataChanged, not a remove/insert
    removed.clear()
    model.apply(c.model_copy(update={"buyer_company": "Renamed GmbH"}))
    assert removed == []
    assert model.index(0, COL_COMPANY).data() == "Renamed GmbH"


def test_claimed_by_other_in_the_snapshot_never_enters():
    me, other = f.agent("anna"), f.agent("bob")
    model, _ = make(me)
    model.apply_many([f.summary(status=HandoffStatus.CLAIMED, claimed_by=other), f.summary()])
    assert model.rowCount() == 1


def test_expertise_filter_hides_what_i_cannot_take_and_toggle_shows_all():
    me = f.agent("anna", ("drives", "quotes"))
    model, proxy = make(me)
    ok = f.summary(skills=("drives",))
    ok2 = f.summary(skills=("drives", "quotes"))
    no = f.summary(skills=("pumps",))
    no2 = f.summary(skills=("drives", "atex"))
    mine_outside = f.summary(skills=("sensors",), status=HandoffStatus.CLAIMED, claimed_by=me)
    model.apply_many([ok, ok2, no, no2, mine_outside])
    assert set(proxy_ids(proxy)) == {ok.id, ok2.id, mine_outside.id}
    proxy.set_only_expertise(False)
    assert set(proxy_ids(proxy)) == {ok.id, ok2.id, no.id, no2.id, mine_outside.id}
    proxy.set_only_expertise(True)
    assert no.id not in proxy_ids(proxy)


def test_all_skills_agent_sees_everything_in_expertise_view():
    model, proxy = make(f.agent("boss", (), all_skills=True))
    model.apply_many([f.summary(skills=("pumps",)), f.summary(skills=("atex", "sensors"))])
    assert proxy.rowCount() == 2


def test_text_filter_matches_company_reason_family_and_skill_labels_all_words():
    model, proxy = make(f.agent("x", (), all_skills=True))
    a = f.summary(
        company="Nordic Pulp AB", family="pump", skills=("pumps",), reason=ReasonCategory.COMPLEXITY
    )
    b = f.summary(company="Acme Mills", family="gearbox", skills=("drives",), reason=ReasonCategory.LIVE_DATA)
    c = f.summary(company="Acme Pumps Ltd", family="sensor", skills=("sensors",), text="ATEX zone question")
    model.apply_many([a, b, c])
    proxy.set_text("acme")
    assert set(proxy_ids(proxy)) == {b.id, c.id}
    proxy.set_text("ACME  gearbox")
    assert proxy_ids(proxy) == [b.id]
    proxy.set_text("complex")
    assert proxy_ids(proxy) == [a.id]
    proxy.set_text("pumps & fluid")
    assert proxy_ids(proxy) == [a.id]
    proxy.set_text("zone")
    assert proxy_ids(proxy) == [c.id]
    proxy.set_text("nothing-like-this")
    assert proxy.rowCount() == 0
    proxy.set_text("")
    assert proxy.rowCount() == 3
    # text and expertise combine
    model.set_agent(f.agent("anna", ("drives",)))
    proxy.set_text("acme")
    assert proxy_ids(proxy) == [b.id]


def test_new_rows_respect_active_filter():
    model, proxy = make(f.agent("anna", ("drives",)))
    proxy.set_text("nordic")
    model.apply(f.summary(company="Nordic Pulp AB", skills=("drives",)))
    model.apply(f.summary(company="Acme", skills=("drives",)))
    model.apply(f.summary(company="Nordic Two", skills=("pumps",)))
    assert proxy.rowCount() == 1


def test_reason_column_and_tooltip():
    model, _ = make()
    model.apply(f.summary(reason=ReasonCategory.EXPLICIT_REQUEST, text="Buyer asked for a person."))
    assert model.index(0, COL_REASON).data() == "Asked for a person"
    assert "Buyer asked for a person." in model.index(0, COL_REASON).data(Qt.ItemDataRole.ToolTipRole)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (59, "59s"),
        (60, "1m 00s"),
        (3599, "59m 59s"),
        (3600, "1h 00m"),
        (90000, "1d 01h"),
        (-5, "0s"),
    ],
)
def test_format_age(seconds, text):
    assert format_age(seconds) == text
