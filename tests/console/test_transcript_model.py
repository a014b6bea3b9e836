"""The transcript model: ordered by seq, deduplicated by id, highlight for packet items."""

from __future__ import annotations

import pytest

from warmline.console.models.transcript_model import HighlightRole, SeqRole, TranscriptModel

from . import factories as f

pytestmark = pytest.mark.usefixtures("qapp")


def seqs(model: TranscriptModel) -> list[int]:
    return [model.index(r, 0).data(SeqRole) for r in range(model.rowCount())]


def test_merge_dedupes_by_message_id_and_keeps_seq_order():
    model = TranscriptModel()
    model.set_conversation("c1", [f.message("c1", 2), f.message("c1", 1), f.message("c2", 1)])
    assert seqs(model) == [1, 2]
    inserted = []
    model.rowsInserted.connect(lambda p, a, b: inserted.append((a, b)))
    assert model.merge([f.message("c1", 3), f.message("c1", 4), f.message("c1", 2)]) == 2
    assert inserted == [(2, 3)]  # one batch
    assert model.merge([f.message("c1", 3)]) == 0  # the event after my own POST's answer
    assert model.merge([f.message("c9", 5)]) == 0  # other conversation
    assert seqs(model) == [1, 2, 3, 4]


def test_out_of_order_message_is_placed_by_seq():
    model = TranscriptModel()
    model.set_conversation("c1", [f.message("c1", 1), f.message("c1", 3)])
    model.merge([f.message("c1", 2)])
    assert seqs(model) == [1, 2, 3]


def test_highlight_marks_one_row_and_emits_change():
    model = TranscriptModel()
    model.set_conversation("c1", [f.message("c1", s) for s in (1, 2, 3)])
    changed = []
    model.dataChanged.connect(lambda a, b, roles: changed.append(a.row()))
    assert model.set_highlight(2) == 1
    assert [model.index(r, 0).data(HighlightRole) for r in range(3)] == [False, True, False]
    assert model.set_highlight(3) == 2
    assert sorted(changed) == [1, 1, 2]
    assert model.set_highlight(42) == -1
    assert model.row_for_seq(42) == -1


def test_switching_conversation_clears():
    model = TranscriptModel()
    model.set_conversation("c1", [f.message("c1", 1)])
    model.set_conversation("c2")
    assert model.rowCount() == 0
    assert model.merge([f.message("c1", 2)]) == 0
