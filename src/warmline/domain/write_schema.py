"""Regenerate resources/schema/handoff-packet.schema.json from the model."""

import json

from warmline.domain.packet import packet_json_schema
from warmline.resources import resource_path

if __name__ == "__main__":
    path = resource_path("schema", "handoff-packet.schema.json")
    path.write_text(json.dumps(packet_json_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")
