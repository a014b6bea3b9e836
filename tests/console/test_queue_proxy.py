"""The queue's filter proxy (a plain-list QAbstractProxyModel) against the real QueueModel.

Every check compares the proxy with the rule applied directly to the model's rows, and
Qt's own QAbstractItemModelTester watches the proxy's signals for inconsistencies.
"""

from __future__ import annotations

import random

import pytest
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import QTableView

from warmline.console.models.queue_model import COL_AGE, COL_COMPANY, IdRole, QueueModel
from warmline.console.models.queue_proxy import QueueFilterProxy
from warmline.console.widgets.queue_view import QueuePanel
from warmline.domain.models import Agent, AgentRef, HandoffStatus
from warmline.domain.packet import Priority

from . import factories as f

pytestmark = pytest.mark.usefixtures("qapp")


def make(agent=None):
    model = QueueModel()
    model.set_agent(agent or f.agent("anna", ("drives",)))
    proxy = QueueFilterProxy()
    proxy.setSourceModel(model)
    tester = QAbstractItemModelTester(proxy, QAbstractItemModelTester.FailureReportingMode.Warning)
    return model, proxy, tester


def ref(agent: Agent) -> AgentRef:
    return AgentRef(id=agent.id, name=agent.name)


def proxy_ids(proxy: QueueFilterProxy) -> list[str]:
    return [proxy.index(r, 0).data(IdRole) for r in range(proxy.rowCount())]


def expected_ids(model: QueueModel, proxy: QueueFilterProxy) -> list[str]:
    return [r.summary.id for r in model.rows() if proxy.accepts(r)]


def assert_consistent(model: QueueModel, proxy: QueueFilterProxy) -> None:
    """Shown rows are exactly the accepted ones, in model order, and both mappings agree."""
    assert proxy_ids(proxy) == expected_ids(model, proxy)
    for r in range(proxy.rowCount()):
        src = proxy.mapToSource(proxy.index(r, COL_COMPANY))
        assert src.column() == COL_COMPANY
        assert proxy.mapFromSource(src).row() == r
    hidden = set(model.ids()) - set(proxy_ids(proxy))
    for hid in hidden:
        assert not proxy.mapFromSource(model.index(model.row_for_id(hid), 0)).isValid()


def no_model_test_failures(qtlog) -> None:
    fails = [rec.message for rec in qtlog.records if "FAIL" in rec.message]
    assert fails == []


def test_incremental_inserts_and_removals_under_an_active_filter(qtlog):
    model, proxy, _tester = make()
    proxy.set_text("nordic")
    inserted, removed = [], []
    proxy.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    proxy.rowsRemoved.connect(lambda _p, a, b: removed.append((a, b)))
    resets = []
    proxy.modelReset.connect(lambda: resets.append(1))

    n1 = f.summary(company="Nordic Pulp", age_s=500)
    a1 = f.summary(company="Acme Mills", age_s=400)
    n2 = f.summary(company="Nordic Steel", age_s=300)
    p1 = f.summary(company="Nordic Pumps", skills=("pumps",), age_s=200)  # outside my expertise
    model.apply_many([n1, a1, n2, p1])
    assert proxy_ids(proxy) == [n1.id, n2.id]
    # one insert of a matching row lands between the two shown ones
    n3 = f.summary(company="Nordic Water", age_s=350)
    inserted.clear()
    model.apply(n3)
    assert proxy_ids(proxy) == [n1.id, n3.id, n2.id]
    assert inserted == [(1, 1)]
    # a non-matching insert shifts source rows but emits nothing on the proxy
    inserted.clear()
    model.apply(f.summary(company="Acme Two", age_s=1000))
    assert inserted == []
    assert_consistent(model, proxy)
    # removing a hidden row is silent; removing a shown one removes exactly its proxy row
    model.apply(a1.model_copy(update={"status": HandoffStatus.RESOLVED}))
    assert removed == []
    model.apply(n3.model_copy(update={"status": HandoffStatus.RESOLVED}))
    assert removed == [(1, 1)]
    assert proxy_ids(proxy) == [n1.id, n2.id]
    assert resets == []
    assert_consistent(model, proxy)
    no_model_test_failures(qtlog)


def test_random_event_stream_keeps_the_proxy_exact(qtlog):
    """Inserts, claims, releases, renames and resolutions in random order, with filter changes."""
    me, other = f.agent("anna", ("drives",)), f.agent("bob", ("drives", "pumps"))
    model, proxy, _tester = make(me)
    rng = random.Random(11)
    companies = ["Nordic Pulp", "Acme Mills", "Baltic Steel", "Nordic Water", "Rhein Chemie"]
    live = []
    for step in range(250):
        op = rng.random()
        if op < 0.35 or not live:
            batch = [
                f.summary(
                    company=rng.choice(companies),
                    skills=rng.choice([("drives",), ("pumps",), ("drives", "quotes")]),
                    priority=rng.choice(list(Priority)),
                    age_s=rng.uniform(0, 5000),
                )
                for _ in range(rng.choice([1, 1, 3, 8]))
            ]
            model.apply_many(batch)
            live.extend(batch)
        elif op < 0.5:
            s = rng.choice(live)
            model.apply(s.model_copy(update={"status": HandoffStatus.CLAIMED, "claimed_by": ref(me)}))
        elif op < 0.6:
            s = rng.choice(live)
            model.apply(s.model_copy(update={"status": HandoffStatus.CLAIMED, "claimed_by": ref(other)}))
        elif op < 0.7:
            s = rng.choice(live)
            model.apply(s.model_copy(update={"status": HandoffStatus.QUEUED, "claimed_by": None}))
        elif op < 0.8:
            s = rng.choice(live)
            model.apply(s.model_copy(update={"buyer_company": rng.choice(companies)}))
        elif op < 0.87:
            s = live.pop(rng.randrange(len(live)))
            model.apply(s.model_copy(update={"status": HandoffStatus.RESOLVED}))
        elif op < 0.95:
            proxy.set_text(rng.choice(["", "nordic", "nor", "nordic p", "acme", "n", "water"]))
        else:
            proxy.set_only_expertise(not proxy.only_expertise)
        assert proxy_ids(proxy) == expected_ids(model, proxy), f"step {step}"
    assert_consistent(model, proxy)
    assert proxy.rowCount() > 0
    no_model_test_failures(qtlog)


def test_keystroke_keeps_the_selected_handoff_selected_in_a_view(qtlog):
    model, proxy, _tester = make()
    rows = [
        f.summary(company=c, age_s=100 * i)
        for i, c in enumerate(["Acme A", "Nordic Bx", "Acme C", "Nordic Dq"])
    ]
    model.apply_many(rows)
    view = QTableView()
    view.setModel(proxy)
    target = rows[2]  # "Acme C"
    r = proxy_ids(proxy).index(rows[1].id)
    view.setCurrentIndex(proxy.index(r, 0))
    view.selectionModel().select(
        proxy.index(r, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    layouts, resets = [], []
    proxy.layoutChanged.connect(lambda *_: layouts.append(1))
    proxy.modelReset.connect(lambda: resets.append(1))
    for text in ("n", "no", "nord", "nordic", "nordic bx"):
        proxy.set_text(text)
        current = view.currentIndex()
        assert current.isValid() and current.data(IdRole) == rows[1].id, text
        selected = {i.data(IdRole) for i in view.selectionModel().selectedRows()}
        assert selected == {rows[1].id}, text
    assert proxy.rowCount() == 1 and view.currentIndex().row() == 0
    assert layouts and resets == []
    # widening again keeps it on the same handoff, now at its place among all rows
    proxy.set_text("")
    assert view.currentIndex().data(IdRole) == rows[1].id
    assert view.currentIndex().row() == proxy_ids(proxy).index(rows[1].id)
    # a filter that hides it leaves no stale current row pointing at another handoff
    proxy.set_text("acme")
    assert not view.currentIndex().isValid()
    assert target.id in proxy_ids(proxy)
    view.deleteLater()
    no_model_test_failures(qtlog)


def test_queue_panel_keeps_selection_while_typing_and_restores_it(qtlog):
    model = QueueModel()
    model.set_agent(f.agent("anna", ("drives",)))
    rows = [f.summary(company=c, age_s=100 * i) for i, c in enumerate(["Acme A", "Nordic B", "Acme C"])]
    model.apply_many(rows)
    panel = QueuePanel(model)
    emitted = []
    panel.handoff_selected.connect(emitted.append)
    assert panel.select_id(rows[0].id)  # "Acme A", the newest: shown last
    assert emitted == [rows[0].id]
    panel.filter_edit.setText("acm")
    assert panel.table.currentIndex().data(IdRole) == rows[0].id
    panel.filter_edit.setText("nordic")  # hides it: the reader keeps the handoff, no new selection
    assert panel.visible_ids() == [rows[1].id]
    assert emitted == [rows[0].id]
    panel.filter_edit.setText("")  # back: the same handoff is current again
    assert panel.table.currentIndex().data(IdRole) == rows[0].id
    assert emitted == [rows[0].id]
    assert panel.count_label.text() == "3"
    panel.deleteLater()
    no_model_test_failures(qtlog)


def test_age_tick_is_forwarded_for_visible_rows_only():
    model, proxy, _tester = make()
    rows = [
        f.summary(company=c, age_s=100 * (5 - i))
        for i, c in enumerate(["Acme", "Nordic", "Acme", "Nordic", "Acme"])
    ]
    model.apply_many(rows)
    proxy.set_text("nordic")
    changes = []
    proxy.dataChanged.connect(
        lambda tl, br, roles: changes.append((tl.row(), tl.column(), br.row(), br.column()))
    )
    layouts = []
    proxy.layoutChanged.connect(lambda *_: layouts.append(1))
    model.tick(f.T0.timestamp() + 5)
    assert changes == [(0, COL_AGE, 1, COL_AGE)]
    assert layouts == []  # the tick never re-filters
    assert proxy.index(1, COL_AGE).data() == "3m 25s"  # rows[3], 200 s old + 5 s
    proxy.set_text("nothing-matches")
    changes.clear()
    model.tick(f.T0.timestamp() + 6)
    assert changes == []


def test_toggle_expertise_shows_and_hides_outside_rows_and_keeps_selection(qtlog):
    model, proxy, _tester = make(f.agent("anna", ("drives",)))
    mine_ok = f.summary(skills=("drives",), age_s=300)
    outside = f.summary(skills=("pumps",), age_s=200)
    ok2 = f.summary(skills=("drives",), age_s=100)
    model.apply_many([mine_ok, outside, ok2])
    view = QTableView()
    view.setModel(proxy)
    assert proxy_ids(proxy) == [mine_ok.id, ok2.id]
    view.setCurrentIndex(proxy.index(1, 0))
    proxy.set_only_expertise(False)
    assert proxy_ids(proxy) == [mine_ok.id, outside.id, ok2.id]
    assert view.currentIndex().data(IdRole) == ok2.id and view.currentIndex().row() == 2
    proxy.set_only_expertise(True)
    assert proxy_ids(proxy) == [mine_ok.id, ok2.id]
    assert view.currentIndex().data(IdRole) == ok2.id and view.currentIndex().row() == 1
    view.deleteLater()
    no_model_test_failures(qtlog)


def test_claim_moves_the_row_and_a_rename_refilters_it(qtlog):
    me = f.agent("anna", ("drives",))
    model, proxy, _tester = make(me)
    a, b, c = (
        f.summary(company=x, age_s=age)
        for x, age in (("Nordic A", 300), ("Nordic B", 200), ("Nordic C", 100))
    )
    model.apply_many([a, b, c])
    proxy.set_text("nordic")
    view = QTableView()
    view.setModel(proxy)
    view.setCurrentIndex(proxy.index(2, 0))  # c
    model.apply(c.model_copy(update={"status": HandoffStatus.CLAIMED, "claimed_by": ref(me)}))
    assert proxy_ids(proxy) == [c.id, a.id, b.id]  # mine first
    assert view.currentIndex().data(IdRole) == c.id and view.currentIndex().row() == 0
    # renaming so it no longer matches hides it; renaming back shows it in place
    model.apply(a.model_copy(update={"buyer_company": "Acme A"}))
    assert proxy_ids(proxy) == [c.id, b.id]
    model.apply(a.model_copy(update={"buyer_company": "Nordic again"}))
    assert proxy_ids(proxy) == [c.id, a.id, b.id]
    assert view.currentIndex().data(IdRole) == c.id
    assert_consistent(model, proxy)
    view.deleteLater()
    no_model_test_failures(qtlog)


def test_agent_change_resets_and_refilters():
    model, proxy, _tester = make(f.agent("anna", ("drives",)))
    model.apply_many([f.summary(skills=("drives",)), f.summary(skills=("pumps",))])
    assert proxy.rowCount() == 1
    model.set_agent(f.agent("bob", ("pumps",)))
    assert proxy.rowCount() == 1
    assert proxy_ids(proxy) == expected_ids(model, proxy)
    model.set_agent(f.agent("boss", (), all_skills=True))
    assert proxy.rowCount() == 2
