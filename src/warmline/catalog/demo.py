"""The demo catalog: a deterministic generator, and the loader the demo workspace calls.

`python -m warmline.catalog.demo` (or `warmline catalog demo-generate`) rewrites
resources/catalog/demo/ byte for byte the same each time. It holds more than 2,000 SKUs
in nine families, each with a datasheet, and the situations the escalation signals must
recognise: supersession chains, documents that disagree, parts with only marketing copy,
ATEX-certified fittings beside non-ATEX ones, a coolant pump line, and the GX-220/GX-240
gearboxes of the demo conversations (their mounting pattern deliberately stated nowhere).
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from warmline.resources import resource_path

DEMO_VERSION_KEY = "demo_catalog"
MAKERS = ["Norrland Drives", "Vexa Industrial", "Kestrel Fluidtech", "Hallberg Motion", "Orbis Automation"]


def demo_dir() -> Path:
    return resource_path("catalog", "demo")


def _datasheet(sku: str, title: str, attrs: dict[str, str], intro: str) -> str:
    lines = [f"# {sku} {title}: datasheet", "", intro, "", "## Technical data", ""]
    lines += [f"- {k}: {v}" for k, v in attrs.items()]
    return "\n".join(lines) + "\n"


def _record(
    sku: str,
    name: str,
    family: str,
    maker: str,
    attrs: dict[str, str],
    intro: str,
    *,
    status: str = "active",
    superseded_by: str | None = None,
    datasheet: bool = True,
    extra_docs: list[dict[str, str]] | None = None,
    relations: list[dict[str, str]] | None = None,
    marketing: str | None = None,
) -> dict[str, Any]:
    docs = []
    if datasheet:
        docs.append(
            {"kind": "datasheet", "title": f"{sku} datasheet", "text": _datasheet(sku, name, attrs, intro)}
        )
    if marketing:
        docs.append({"kind": "marketing", "title": f"{sku} brochure", "text": marketing})
    docs += extra_docs or []
    rec: dict[str, Any] = {
        "sku": sku,
        "name": name,
        "family": family,
        "manufacturer": maker,
        "status": status,
    }
    if superseded_by:
        rec["superseded_by"] = superseded_by
    rec["documents"] = docs
    if relations:
        rec["relations"] = relations
    return rec


def _gearboxes(rng: random.Random, n: int) -> Iterator[dict[str, Any]]:
    # The demo conversation's pair first. No mounting statement anywhere, on purpose.
    gx = {
        "GX-220": ("220 N·m", "IP65", "12.5"),
        "GX-240": ("240 N·m", "IP66", "12.5"),
    }
    for sku, (torque, ip, ratio) in gx.items():
        attrs = {
            "Rated voltage": "400 V",
            "Rated torque": torque,
            "Gear ratio": ratio,
            "IP rating": ip,
            "Washdown rated": "yes",
            "Output speed": "116 r/min",
            "Housing material": "stainless steel",
            "Weight": "18.5 kg" if sku == "GX-220" else "19.2 kg",
        }
        extra = []
        if sku == "GX-240":
            extra.append(
                {
                    "kind": "manual",
                    "title": "GX-240 operating manual (rev. B)",
                    "text": (
                        "# GX-240 operating manual\n\nRead before commissioning. "
                        "The unit is washdown rated for food "
                        "and beverage lines.\n\n## Ratings\n\n"
                        "- Rated torque: 250 N·m\n- Rated voltage: 400 V\n"
                        "- IP rating: IP66\n\nLubricated for life with food-grade oil (NSF H1).\n"
                    ),
                }
            )
        yield _record(
            sku,
            "Helical washdown gearbox",
            "gearbox",
            "Norrland Drives",
            attrs,
            "Stainless helical gearbox for washdown conveyors, 400 V three-phase.",
            extra_docs=extra,
            marketing=f"The {sku} keeps running through daily high-pressure washdowns.",
        )
    yield _record(
        "GX-180",
        "Helical washdown gearbox",
        "gearbox",
        "Norrland Drives",
        {
            "Rated voltage": "400 V",
            "Rated torque": "180 N·m",
            "Gear ratio": "12.5",
            "IP rating": "IP65",
            "Washdown rated": "yes",
        },
        "Previous generation washdown gearbox.",
        status="discontinued",
        superseded_by="GX-200",
    )
    yield _record(
        "GX-200",
        "Helical washdown gearbox",
        "gearbox",
        "Norrland Drives",
        {
            "Rated voltage": "400 V",
            "Rated torque": "200 N·m",
            "Gear ratio": "12.5",
            "IP rating": "IP65",
            "Washdown rated": "yes",
        },
        "Washdown gearbox, replaced by the GX-220.",
        status="discontinued",
        superseded_by="GX-220",
    )
    mountings = ["B5 flange", "B14 flange", "foot", "hollow shaft"]
    torques = [
        rng.choice([60, 90, 120, 150, 180, 200, 220, 250, 300, 400, 500, 750, 1000]) for _ in range(n - 4)
    ]
    skus = [f"HG-{torque:04d}-{i:03d}" for i, torque in enumerate(torques)]
    for i, (sku, torque) in enumerate(zip(skus, torques, strict=True)):
        ip = rng.choice(["IP54", "IP55", "IP65", "IP66"])
        volt = rng.choice(["230 V", "400 V", "400 V", "230/400 V"])
        washdown = "yes" if ip in ("IP65", "IP66") and rng.random() < 0.5 else "no"
        attrs = {
            "Rated voltage": volt,
            "Rated torque": f"{torque} N·m",
            "Gear ratio": rng.choice(["5", "10", "20", "40"]),
            "IP rating": ip,
            "Washdown rated": washdown,
            "Mounting": rng.choice(mountings),
            "Output speed": f"{rng.choice([35, 70, 140, 280])} r/min",
            "Weight": f"{round(torque / 15 + 3, 1)} kg",
        }
        status, sup = "active", None
        if i % 50 == 7 and i + 2 < len(skus):
            # a chain: i -> i+1 -> i+2 (i+1 discontinued too when i % 100 == 7)
            status, sup = "discontinued", skus[i + 1]
        elif i % 100 == 8:
            status, sup = "discontinued", skus[i + 1]
        yield _record(
            sku,
            f"Helical gearbox {torque} N·m",
            "gearbox",
            rng.choice(MAKERS),
            attrs,
            "Helical in-line gearbox.",
            status=status,
            superseded_by=sup,
        )


def _gearmotors(rng: random.Random, n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        kw = rng.choice([0.18, 0.37, 0.55, 0.75, 1.1, 1.5, 2.2, 3.0, 4.0])
        speed = rng.choice([28, 56, 90, 140, 230])
        torque = round(kw * 9550 / speed)
        sku = f"GM-{int(kw * 100):03d}-{i:03d}"
        attrs = {
            "Rated power": f"{kw} kW",
            "Rated voltage": rng.choice(["230/400 V", "400 V", "460 V"]),
            "Rated torque": f"{torque} N·m",
            "Output speed": f"{speed} r/min",
            "IP rating": rng.choice(["IP55", "IP65"]),
            "Mounting": rng.choice(["B5 flange", "B14 flange", "foot"]),
        }
        rel = [{"kind": "compatible_with", "sku": "GX-220"}] if i < 3 else None
        yield _record(
            sku,
            f"Helical gearmotor {kw} kW",
            "gearmotor",
            rng.choice(MAKERS),
            attrs,
            "Three-phase helical gearmotor, IE3 motor.",
            relations=rel,
        )


def _pumps(rng: random.Random, n: int) -> Iterator[dict[str, Any]]:
    flows = [
        rng.choice([10, 20, 40, 60, 100, 150]) if i < 30 else rng.choice([20, 50, 100, 200, 400])
        for i in range(n)
    ]
    skus = [f"CP-{flow:03d}-{i:02d}" if i < 30 else f"CF-{flow:03d}-{i:03d}" for i, flow in enumerate(flows)]
    for i, (sku, flow) in enumerate(zip(skus, flows, strict=True)):
        coolant = i < 30
        attrs = {
            "Flow rate": f"{flow} l/min",
            "Max head": f"{rng.choice([8, 12, 20, 32, 45])} m",
            "Rated power": f"{rng.choice([0.25, 0.37, 0.55, 1.1, 2.2])} kW",
            "Rated voltage": rng.choice(["400 V", "230 V"]),
            "Fluid temperature": rng.choice(["-10...+80 °C", "0...+60 °C", "-20...+90 °C"]),
            "Medium": "coolant" if coolant else rng.choice(["water", "water", "oil"]),
            "IP rating": rng.choice(["IP54", "IP55"]),
            "Connection": rng.choice(["G1/2", "G3/4", "G1"]),
        }
        name = "Immersion coolant pump" if coolant else "Centrifugal pump"
        status, sup = "active", None
        if coolant and i in (3, 4):
            status, sup = "discontinued", skus[i + 10]
        yield _record(
            sku,
            f"{name} {flow} l/min",
            "pump",
            "Kestrel Fluidtech" if coolant else rng.choice(MAKERS),
            attrs,
            "Machine-tool coolant pump." if coolant else "Close-coupled centrifugal pump.",
            status=status,
            superseded_by=sup,
        )


THREADS = ["M5", "G1/8", "G1/4", "G3/8", "G1/2"]


def _fittings(rng: random.Random, n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        atex = i < 60
        thread = THREADS[i % len(THREADS)]
        tube = rng.choice([4, 6, 8, 10, 12])
        sku = f"PF-{'EX' if atex else 'ST'}-{tube:02d}{thread.replace('/', '')}-{i:03d}"
        attrs = {
            "Thread": thread,
            "Tube outside diameter": f"{tube} mm",
            "Max pressure": rng.choice(["10 bar", "16 bar", "20 bar"]),
            "Operating temperature": "-20...+80 °C",
            "Body material": "nickel-plated brass" if not atex else "stainless steel",
        }
        extra = []
        if atex:
            marking = "II 2G Ex h IIC T4 Gb" if i % 3 else "II 2GD Ex h IIC T6 Gb"
            attrs["ATEX marking"] = marking
            extra.append(
                {
                    "kind": "certificate",
                    "title": f"EU-type examination certificate for {sku}",
                    "text": (
                        f"# EU declaration of conformity: {sku}\n\nDirective 2014/34/EU (ATEX).\n\n"
                        f"- ATEX marking: {marking}\n- Thread: {thread}\n\n"
                        f"Notified body 0123, certificate KST 21 ATEX 0{i:03d} X.\n"
                    ),
                }
            )
        yield _record(
            sku,
            f"Push-in fitting {tube} mm {thread}{' ATEX' if atex else ''}",
            "pneumatic_fitting",
            "Vexa Industrial",
            attrs,
            "Straight push-in fitting.",
            extra_docs=extra,
        )


def _valves(rng: random.Random, n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        thread = THREADS[1 + i % 4]
        sku = f"SV-{thread.replace('/', '')}-{i:03d}"
        attrs = {
            "Connection": thread,
            "Max pressure": rng.choice(["8 bar", "10 bar", "16 bar"]),
            "Coil voltage": rng.choice(["24 V DC", "230 V AC"]),
            "IP rating": rng.choice(["IP65", "IP67"]),
            "Nominal flow": f"{rng.choice([300, 600, 1200, 2500])} l/min",
        }
        yield _record(
            sku,
            f"5/2 solenoid valve {thread}",
            "valve",
            rng.choice(MAKERS),
            attrs,
            "Solenoid valve, single coil, spring return.",
        )


def _connectors(rng: random.Random, n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        poles = rng.choice([3, 4, 5, 8])
        thread = rng.choice(["M8", "M12", "7/8-16UN"])
        sku = f"CN-{thread.split('-')[0].replace('/', '')}-{poles}P-{i:03d}"
        attrs = {
            "Contacts": str(poles),
            "Thread": thread,
            "Rated current": rng.choice(["2 A", "4 A", "8 A"]),
            "Rated voltage": rng.choice(["30 V", "60 V", "250 V"]),
            "IP rating": rng.choice(["IP67", "IP68"]),
        }
        yield _record(
            sku,
            f"{thread} connector {poles}-pole",
            "connector",
            rng.choice(MAKERS),
            attrs,
            "Field-attachable circular connector.",
        )


def _cables(rng: random.Random, n: int, sensor_skus: list[str]) -> Iterator[dict[str, Any]]:
    for i in range(n):
        poles = rng.choice([3, 4, 5, 8])
        length = rng.choice([2, 5, 10, 15])
        sku = f"CB-M12-{poles}P-{length:02d}M-{i:03d}"
        attrs = {
            "Contacts": str(poles),
            "Cable length": f"{length} m",
            "Conductor cross-section": "0.34 mm²",
            "Rated voltage": "30 V",
            "Sheath": rng.choice(["PUR", "PVC"]),
            "Operating temperature": "-25...+80 °C",
        }
        rel = None
        if poles == 4 and sensor_skus:
            rel = [
                {
                    "kind": "accessory_of",
                    "sku": sensor_skus[i % len(sensor_skus)],
                    "note": "M12 4-pin sensor cable",
                }
            ]
        yield _record(
            sku,
            f"M12 sensor cable {poles}-pole {length} m",
            "cable",
            rng.choice(MAKERS),
            attrs,
            "Pre-assembled sensor cable.",
            relations=rel,
        )


def _sensors(rng: random.Random, n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        thread = rng.choice(["M12", "M18", "M30"])
        rng_mm = {"M12": 4, "M18": 8, "M30": 15}[thread] * rng.choice([1, 2])
        sku = f"PS-{thread}-{rng_mm:02d}-{i:03d}"
        attrs = {
            "Sensing range": f"{rng_mm} mm",
            "Supply voltage": "10-30 V DC",
            "Output": rng.choice(["PNP NO", "NPN NO", "PNP NC"]),
            "IP rating": rng.choice(["IP67", "IP68", "IP69K"]),
            "Thread": thread,
            "Contacts": "4",
            "Operating temperature": "-25...+70 °C",
        }
        yield _record(
            sku,
            f"Inductive proximity sensor {thread}",
            "sensor",
            rng.choice(MAKERS),
            attrs,
            "Inductive sensor, M12 4-pin connector.",
        )


def _bearings(rng: random.Random, n: int) -> Iterator[dict[str, Any]]:
    sizes = [
        (10, 26, 8),
        (12, 28, 8),
        (15, 32, 9),
        (17, 35, 10),
        (20, 42, 12),
        (25, 47, 12),
        (30, 55, 13),
        (20, 47, 14),
        (25, 52, 15),
        (30, 62, 16),
        (35, 72, 17),
        (40, 80, 18),
    ]
    for i in range(n):
        d, big_d, b = sizes[i % len(sizes)]
        seal = ["open", "2Z", "2RS"][(i // len(sizes)) % 3]
        sku = f"WB-{d:02d}{big_d:02d}{b:02d}-{'' if seal == 'open' else seal + '-'}{i:03d}"
        attrs = {
            "Bore": f"{d} mm",
            "Outer diameter": f"{big_d} mm",
            "Width": f"{b} mm",
            "Basic dynamic load rating": f"{round(d * big_d * 0.012 + rng.random(), 2)} kN",
            "Speed limit": f"{int(600000 / big_d)} r/min",
            "Seal": seal,
        }
        yield _record(
            sku,
            f"Deep groove ball bearing {d}x{big_d}x{b}",
            "bearing",
            rng.choice(MAKERS),
            attrs,
            "Single-row deep groove ball bearing.",
        )


def _marketing_only(rng: random.Random) -> Iterator[dict[str, Any]]:
    for i in range(24):
        fam = ["pump", "gearbox", "sensor", "valve"][i % 4]
        sku = f"MK-{fam[:2].upper()}-{i:03d}"
        text = (
            f"# Meet the {sku}\n\nThe smartest {fam} in its class. Up to IP67 protection, whisper quiet, "
            f"and built to last.\n\n- IP rating: IP67\n"
        )
        yield _record(
            sku,
            f"New {fam} (launch edition)",
            fam,
            rng.choice(MAKERS),
            {},
            "",
            datasheet=False,
            marketing=text,
        )


def demo_records(scale: int = 1, seed: int = 1729) -> list[dict[str, Any]]:
    """All demo products as native JSON records (deterministic for a seed)."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    out += _gearboxes(rng, 250 * scale)
    out += _gearmotors(rng, 250 * scale)
    out += _pumps(rng, 220 * scale)
    out += _fittings(rng, 300 * scale)
    out += _valves(rng, 220 * scale)
    out += _connectors(rng, 250 * scale)
    sensors = list(_sensors(rng, 250 * scale))
    out += sensors
    out += _cables(rng, 250 * scale, [s["sku"] for s in sensors[:40]])
    out += _bearings(rng, 220 * scale)
    out += _marketing_only(rng)
    return out


def _docs_folder() -> dict[str, str]:
    """Documents shipped as files (they exercise the document-folder path of ingest)."""
    return {
        "GX-220__manual.md": (
            "---\nsku: GX-220\nkind: manual\ntitle: GX-220 operating manual (rev. C)\n---\n"
            "# GX-220 operating manual\n\nWashdown-rated helical gearbox for conveyor lines.\n\n"
            "## Ratings\n\n- Rated torque: 220 N·m\n- Rated voltage: 400 V\n- IP rating: IP65\n\n"
            "Check oil level every 10,000 h. Use only food-grade lubricant.\n"
        ),
        "GX-220__marketing.md": (
            "---\nsku: GX-220\nkind: marketing\ntitle: GX series brochure\n---\n"
            "# GX series\n\nThe GX-220 and GX-240 stand up to caustic cleaning\n"
            "and high-pressure hoses day after day.\n"
            "- IP rating: IP69K\n"
        ),
    }


def write_demo_catalog(out: str | Path | None = None) -> Path:
    """(Re)write the demo catalog files; the same bytes every time."""
    folder = Path(out) if out else demo_dir()
    (folder / "docs").mkdir(parents=True, exist_ok=True)
    with (folder / "products.jsonl").open("w", encoding="utf-8", newline="\n") as fh:
        for rec in demo_records():
            fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n")
    for name, body in _docs_folder().items():
        (folder / "docs" / name).write_text(body, encoding="utf-8", newline="\n")
    return folder


def demo_version() -> str:
    """A fingerprint of the shipped demo files (changes when they are regenerated differently)."""
    h = hashlib.sha256()
    folder = demo_dir()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


async def ensure_demo_catalog(database_url: str) -> bool:
    """Load the demo catalog unless this version is already there; True if it loaded now."""
    from sqlalchemy import select

    from warmline.catalog import tables as t
    from warmline.catalog.ingest import ingest_path
    from warmline.catalog.service import make_engine
    from warmline.storage.migrate import upgrade

    await upgrade(database_url)
    version = demo_version()
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            have = await conn.scalar(select(t.meta.c.value).where(t.meta.c.key == DEMO_VERSION_KEY))
        if have == version:
            return False
        await ingest_path(engine, demo_dir())
        async with engine.begin() as conn:
            await conn.execute(t.meta.delete().where(t.meta.c.key == DEMO_VERSION_KEY))
            await conn.execute(t.meta.insert().values(key=DEMO_VERSION_KEY, value=version))
        return True
    finally:
        await engine.dispose()


if __name__ == "__main__":
    print(write_demo_catalog(sys.argv[1] if len(sys.argv) > 1 else None))
