import json

from warmline.domain.packet import HandoffPacket, ReasonCategory, packet_json_schema
from warmline.resources import resource_path


def test_published_schema_file_matches_the_model():
    published = json.loads(resource_path("schema", "handoff-packet.schema.json").read_text())
    assert published == packet_json_schema(), (
        "resources/schema/handoff-packet.schema.json is stale: run `python -m warmline.domain.write_schema`"
    )


def test_packet_round_trips_with_every_section():
    packet = HandoffPacket.model_validate(
        {
            "reason": "complexity",
            "sub_reason": "compatibility",
            "summary": (
                "This looks like a compatibility decision that should be checked "
                "against your installation details."
            ),
            "goal": "Replace the gearbox of an existing conveyor line",
            "products": [{"sku": "GX-220", "family": "gearbox", "source_turn": 3}],
            "constraints": [{"name": "torque", "value": "> 180", "unit": "N·m", "source_turn": 2}],
            "documents": [{"title": "GX-220 datasheet", "kind": "datasheet", "score": 0.82}],
            "confidence_notes": [{"text": "Mounting pattern not in the datasheet"}],
            "unresolved": [{"text": "Compatibility with the existing mounting pattern"}],
        }
    )
    assert packet.reason is ReasonCategory.COMPLEXITY
    again = HandoffPacket.model_validate_json(packet.model_dump_json())
    assert again == packet
