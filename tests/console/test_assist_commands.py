"""The assistant's command line: text -> AssistRequest, and errors that name the field."""

from __future__ import annotations

import pytest

from warmline.console.assist_commands import CommandError, command_at_end, describe, parse_command
from warmline.domain.assist import AssistKind, AssistRequest


def test_subs_with_compact_constraints():
    r = parse_command("/subs GX-220 torque>=180Nm ip>=65")
    assert r == AssistRequest(
        kind=AssistKind.SUBSTITUTES, skus=["GX-220"], constraints=["torque>=180Nm", "ip>=65"]
    )


def test_subs_with_spaced_operator_and_unit_is_one_constraint():
    r = parse_command("/subs  GX-220   torque >= 180 Nm,  ip>=65")
    assert r.constraints == ["torque>=180 Nm", "ip>=65"]


def test_subs_without_constraints_leaves_them_to_the_packet():
    r = parse_command("/subs GX-200")
    assert r.kind is AssistKind.SUBSTITUTES and r.skus == ["GX-200"] and r.constraints is None


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [
        ("/subs", "skus", "name one SKU"),
        ("/subs torque>=180Nm", "skus", "SKU first"),
        ("/subs GX-220 GX-240", "constraints", "'GX-240' is not a constraint"),
        ("/subs GX-220 torque>=", "constraints", "incomplete"),
        ("/acc GX-220 GX-240", "skus", "one SKU"),
        ("/acc", "skus", "name one SKU"),
        ("/compare GX-220", "skus", "2 to 4"),
        ("/compare A B C D E", "skus", "2 to 4"),
        ("/compare GX-220 gx-220", "skus", "different"),
        ("/spec", "skus", "at least one SKU"),
        ("/sum", "document", "name the document"),
        ("/search", "query", "what to search"),
        ("/frobnicate GX-1", "command", "unknown command /frobnicate"),
        ("   ", "command", "type a command"),
    ],
)
def test_errors_name_the_field_and_the_fix(text, field, fragment):
    with pytest.raises(CommandError) as info:
        parse_command(text)
    assert info.value.field == field
    assert fragment in info.value.message


def test_spec_many_skus_commas_and_dedupe():
    r = parse_command("/spec GX-220, GX-240 gx-220")
    assert r.kind is AssistKind.SPEC and r.skus == ["GX-220", "GX-240"]


def test_spec_without_skus_uses_the_packet_ones_when_given():
    assert parse_command("/spec", default_skus=["GX-200", "GX-220"]).skus == ["GX-200", "GX-220"]


def test_other_kinds():
    assert parse_command("/acc GX-240").skus == ["GX-240"]
    c = parse_command("/compare GX-220 GX-240 GX-200")
    assert c.kind is AssistKind.COMPARE and c.skus == ["GX-220", "GX-240", "GX-200"]
    s = parse_command("/sum GX-240 operating manual (rev. B)")
    assert s.kind is AssistKind.SUMMARY and s.document == "GX-240 operating manual (rev. B)"
    d = parse_command("/draft")
    assert d.kind is AssistKind.DRAFT and d.instructions is None
    d2 = parse_command("/DRAFT offer the GX-240, mention lead time")
    assert d2.instructions == "offer the GX-240, mention lead time"


def test_plain_text_and_search_are_catalog_search():
    assert parse_command("washdown gearbox ip>=66") == AssistRequest(
        kind=AssistKind.SEARCH, query="washdown gearbox ip>=66"
    )
    assert parse_command("/search family:pump").query == "family:pump"


def test_describe_round_trips():
    for text in (
        "/spec GX-220 GX-240",
        "/subs GX-220 torque>=180Nm ip>=65",
        "/acc GX-240",
        "/compare A B",
        "/draft",
    ):
        assert describe(parse_command(text)) == text


def test_command_at_end_knows_when_a_sku_is_wanted():
    assert command_at_end("/spe") == command_at_end("/spe").__class__(None, "/spe", False)
    info = command_at_end("/spec GX-2")
    assert info.command == "spec" and info.word == "GX-2" and info.wants_sku
    assert command_at_end("/compare GX-220 ").wants_sku
    assert command_at_end("/subs GX").wants_sku
    assert not command_at_end("/subs GX-220 tor").wants_sku  # constraints after the one SKU
    assert not command_at_end("/sum GX").wants_sku
    assert not command_at_end("gearbox").wants_sku
