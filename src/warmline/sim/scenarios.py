"""Demo conversations: realistic B2B buyers whose conversations the escalation engine hands off.

The simulator replays each scenario turn by turn through the engine (post the buyer
turn, decide, post the AI reply) and creates the handoff from the engine's decision,
so the demo's handoffs are produced by the engine, not written by hand. Each scenario
notes the reason a good specialist would expect (``expect``); tests hold the engine to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from warmline.domain.models import AuthorKind, Buyer
from warmline.domain.packet import AccountFacts, ReasonCategory
from warmline.escalation.models import Decision, Turn

R = ReasonCategory


@dataclass(frozen=True)
class Scenario:
    """One buyer and what they write, in order."""

    id: str
    buyer: Buyer
    subject: str
    turns: list[str]
    expect: ReasonCategory
    topic: str = ""
    tags: list[str] = field(default_factory=list)

    @property
    def account(self) -> AccountFacts:
        return AccountFacts(
            company=self.buyer.company,
            tier=self.buyer.tier,
            region=self.buyer.region,
            enterprise=self.buyer.tier == "enterprise",
        )


class TranscriptTurn(Turn):
    """A transcript message of a replayed scenario, with the author's display name."""

    author_name: str = ""


def _b(name: str, company: str, tier: str = "standard", region: str = "", email: str = "") -> Buyer:
    handle = name.lower().split()[0]
    domain = company.lower().replace(" ", "").replace(".", "").replace(",", "")[:20]
    return Buyer(
        name=name, company=company, tier=tier, region=region, email=email or f"{handle}@{domain}.example"
    )


SCENARIOS: list[Scenario] = [
    Scenario(
        "gearbox-conveyor",
        _b("Linnea Berg", "Nordic Conveyors AB", "enterprise", "Sweden"),
        "Replacement gearbox for conveyor line 3",
        [
            "I need a replacement gearbox for our conveyor line",
            "400 V, IP65, washdown, at least 180 Nm. Delivery is needed this month.",
            "Will the GX-240 fit the mounting pattern of our current unit?",
        ],
        R.LOW_CONFIDENCE,
        "gearbox",
    ),
    Scenario(
        "coolant-pump",
        _b("Marco Rossi", "Officine Rossi Srl", "standard", "Italy"),
        "Pump for a machine-tool coolant loop",
        [
            "Which pump should I use for this coolant loop?",
            "About 40 l/min at 3 bar, coolant is a water glycol mix at 45 °C",
            "Good. Can you quote two of the first one, delivered to Brescia?",
        ],
        R.PURCHASE_INTENT,
        "pump",
    ),
    Scenario(
        "atex-fittings",
        _b("Henrik Vogel", "Vogel Chemie GmbH", "key", "Germany"),
        "Push-in fittings for a solvent area",
        [
            "Looking for push-in fittings, G1/4 thread to 8 mm tube",
            "They go into an ATEX zone 1 area in our solvent plant. Are these certified for that?",
        ],
        R.POLICY_RULE,
        "atex",
    ),
    Scenario(
        "sensors-500",
        _b("Priya Nair", "Kestrel Packaging Ltd", "standard", "United Kingdom"),
        "Inductive sensors for a new packaging line",
        [
            "Do you have M12 inductive sensors with PNP output?",
            "We need 500 units this month for the new lines.",
        ],
        R.POLICY_RULE,
        "sensor",
    ),
    Scenario(
        "quote-assembly",
        _b("Tom Becker", "Becker Fördertechnik", "standard", "Germany"),
        "Gearbox and gear motor assembly",
        [
            "We're building a drive for a bucket elevator: gearbox plus gear motor, 400 V, 200 Nm",
            "Can you quote the full assembly?",
        ],
        R.PURCHASE_INTENT,
        "gearbox",
    ),
    Scenario(
        "discontinued-gearbox",
        _b("Pieter de Vries", "Vries Bakeries", "standard", "Belgium"),
        "Replacement for a discontinued GX-200",
        [
            "We need a replacement for our GX-200 gearbox on the proofer conveyor.",
        ],
        R.POLICY_RULE,
        "gearbox",
    ),
    Scenario(
        "discontinued-pump",
        _b("Karin Holm", "Holm CNC Service", "standard", "Denmark"),
        "Coolant pump CP-010-03 replacement",
        [
            "Is there a successor for the CP-010-03 coolant pump? Ours is worn out.",
        ],
        R.POLICY_RULE,
        "pump",
    ),
    Scenario(
        "lead-time-norway",
        _b("Ingrid Solberg", "Fjord Aqua AS", "standard", "Norway"),
        "Lead time for gearboxes to Norway",
        [
            "What's the rated torque of the GX-220?",
            "And what's the lead time for 4 of them to Bergen, Norway?",
        ],
        R.LIVE_DATA,
        "gearbox",
    ),
    Scenario(
        "rephrased-three-times",
        _b("Daniel Okafor", "Lagos Bottling Co", "standard", "Nigeria"),
        "Gearbox output shaft question",
        [
            "What output speed does the GX-240 give on a 60 Hz supply?",
            "No, I mean on 60 Hz mains: what is the GX-240 output speed?",
            "Again: the GX-240 output speed at 60 Hz, please?",
        ],
        R.COMPLEXITY,
        "gearbox",
    ),
    Scenario(
        "explicit-person",
        _b("Sofia Lindqvist", "Lindqvist Marin", "standard", "Finland"),
        "Wants to talk to someone",
        [
            "Do you have stainless pumps for seawater?",
            "can i tlak to a humna please, this is for a ship refit",
        ],
        R.EXPLICIT_REQUEST,
        "pump",
    ),
    Scenario(
        "frustrated-buyer",
        _b("Greg Harlow", "Harlow Mills Inc", "standard", "USA"),
        "Gearbox for a mixer",
        [
            "I need a gearbox for a mixer, 230 V, 150 Nm",
            "This is not what I asked. I need a right-angle unit, I said that already.",
        ],
        R.COMPLEXITY,
        "gearbox",
    ),
    Scenario(
        "enterprise-overheating",
        _b("Aiko Tanaka", "Shinwa Logistics KK", "enterprise", "Japan"),
        "GX-220 running hot",
        [
            "Our GX-220 on sorter 4 has been overheating since the last maintenance",
        ],
        R.POLICY_RULE,
        "gearbox",
    ),
    Scenario(
        "cables-stock-hamburg",
        _b("Jonas Krüger", "Krüger Automation", "standard", "Germany"),
        "M12 cables from the Hamburg warehouse",
        [
            "I need M12 4-pin sensor cables, 5 m",
            "Do you have 300 of them in stock in the Hamburg warehouse?",
        ],
        R.LIVE_DATA,
        "cable",
    ),
    Scenario(
        "sensor-sil",
        _b("Elena Petrova", "Baltic Press Works", "standard", "Latvia"),
        "Sensor for a press guard",
        [
            "Looking for an inductive sensor, M18, PNP output",
            "It will monitor the guard door of a press as part of a SIL 2 safety function. Is that OK?",
        ],
        R.POLICY_RULE,
        "sensor",
    ),
    Scenario(
        "bearing-contract-price",
        _b("Raj Patel", "Patel Motors Pvt", "key", "India"),
        "Deep groove bearings",
        [
            "I need a deep groove ball bearing with a 25 mm bore",
            "What's our contract price for 600 of them?",
        ],
        R.LIVE_DATA,
        "bearing",
    ),
    Scenario(
        "standardize-sites",
        _b("Claire Dubois", "Dubois Agro SA", "standard", "France"),
        "Standard gearbox for all plants",
        [
            "We use gearboxes around 200 Nm at 400 V on our conveyors",
            "We are standardizing this line across multiple sites and want one gearbox for all of them.",
        ],
        R.PURCHASE_INTENT,
        "gearbox",
    ),
    Scenario(
        "spec-today",
        _b("Mateo García", "García Envases SL", "standard", "Spain"),
        "Pump selection today",
        [
            "Can someone help me spec this today? It's a pump for a cleaning skid.",
        ],
        R.PURCHASE_INTENT,
        "pump",
    ),
    Scenario(
        "avoid-downtime",
        _b("Olivia Brown", "Brown Timber Ltd", "key", "Canada"),
        "Replace the saw-line drive without downtime",
        [
            "I need to replace the gearbox on our saw line this weekend and avoid downtime.",
        ],
        R.PURCHASE_INTENT,
        "gearbox",
    ),
    Scenario(
        "broad-comparison",
        _b("Lukas Novak", "Novak Strojírny", "standard", "Czech Republic"),
        "Comparing many gearboxes",
        [
            "Compare GX-220, GX-240 and every other gearbox you have between 150 and 300 Nm, "
            "plus the matching gear motors and their pumps.",
        ],
        R.COMPLEXITY,
        "gearbox",
    ),
    Scenario(
        "assisted-valve",
        _b("Fatima Al-Sayed", "Gulf Process Services", "assisted", "UAE"),
        "Valve for compressed air",
        [
            "Which valve should we use for compressed air at 6 bar with G1/4 ports?",
        ],
        R.POLICY_RULE,
        "valve",
    ),
    Scenario(
        "order-change",
        _b("Peter Jansen", "Jansen Foods BV", "standard", "Netherlands"),
        "Change an open order",
        [
            "Can we change our open order 88213 from the GX-220 to the GX-240?",
        ],
        R.LIVE_DATA,
        "gearbox",
    ),
    Scenario(
        "dosing-skid",
        _b("Anna Kowalska", "Kowalska Water", "standard", "Poland"),
        "Complete dosing skid",
        [
            "We want a complete system for a new chlorine dosing skid: pump, valves, sensors and cabling.",
        ],
        R.COMPLEXITY,
        "pump",
    ),
    Scenario(
        "clarification-loop",
        _b("Sam Miller", "Miller Farms", "standard", "USA"),
        "Pump for the farm",
        [
            "I need a pump",
            "for the farm",
            "not sure, a normal one",
        ],
        R.COMPLEXITY,
        "pump",
    ),
    Scenario(
        "quote-status",
        _b("Hannah Schmidt", "Schmidt Verpackung", "key", "Austria"),
        "Quote follow-up",
        [
            "Any update on the status of our quote for the M12 connectors?",
        ],
        R.LIVE_DATA,
        "connector",
    ),
    Scenario(
        "wrong-connector-rma",
        _b("Chris Evans", "Evans Controls", "standard", "United Kingdom"),
        "Wrong connectors delivered",
        [
            "The wrong connectors arrived, we ordered 8-pin and got 4-pin. We need an RMA.",
        ],
        R.COMPLEXITY,
        "connector",
    ),
    Scenario(
        "sales-rep-bearings",
        _b("Mikko Virtanen", "Virtanen Paper Oy", "enterprise", "Finland"),
        "Bearings for a paper machine",
        [
            "Do you carry cylindrical roller bearings?",
            "OK. I'd like to speak with a sales rep about our annual volume.",
        ],
        R.EXPLICIT_REQUEST,
        "bearing",
    ),
]

# Buyer replies the simulator posts into conversations that were already handed off,
# by topic (a scenario's ``topic``), with a general fallback.
FOLLOW_UPS: dict[str, list[str]] = {
    "gearbox": [
        "Our current unit has a B14 flange, 4 bolts on a 130 mm pitch circle. Photo attached.",
        "Any news? We'd like to order before Friday if the fit is confirmed.",
        "The motor frame is 100L, if that helps.",
    ],
    "pump": [
        "The loop runs 24/7, so we need spare seals on the shelf as well.",
        "We can accept 2 weeks of delivery, not more.",
        "The coolant supplier's datasheet is attached.",
    ],
    "atex": [
        "The zone classification document from our safety officer is attached.",
        "We also need the EU declaration of conformity with the delivery.",
    ],
    "sensor": [
        "We can split the delivery: 200 now and 300 next month.",
        "Do the sensors come with the 5 m cable or is that separate?",
    ],
    "cable": [
        "PUR jacket please, the cables run in a drag chain.",
        "If Hamburg can't ship, Rotterdam is fine too.",
    ],
    "bearing": [
        "We usually order quarterly; the annual volume is about 2,400 pieces.",
        "C3 clearance, if that changes anything.",
    ],
    "valve": [
        "24 V DC coils, and we need manual override.",
    ],
    "connector": [
        "The order number is 77120, delivery note attached.",
    ],
    "default": [
        "Thanks, I'll wait here.",
        "Is there any update?",
        "Please also copy my colleague, she handles purchasing.",
    ],
}


def follow_ups_for(scenario: Scenario) -> list[str]:
    """Follow-up buyer messages suitable for this scenario's conversation."""
    return FOLLOW_UPS.get(scenario.topic, []) + FOLLOW_UPS["default"]


async def play_scenario(engine: Any, scenario: Scenario) -> tuple[list[TranscriptTurn], Decision]:
    """Run a scenario in memory: each buyer turn, the engine's decision, its reply; stop at escalation.

    Returns the transcript (buyer and AI turns) and the last decision, which is the
    escalating one when the engine handed off.
    """
    transcript: list[TranscriptTurn] = []
    decision: Decision | None = None
    for body in scenario.turns:
        transcript.append(
            TranscriptTurn(
                seq=len(transcript) + 1,
                author_kind=AuthorKind.BUYER,
                body=body,
                author_name=scenario.buyer.name,
            )
        )
        decision = await engine.decide(transcript, scenario.account)
        transcript.append(
            TranscriptTurn(
                seq=len(transcript) + 1,
                author_kind=AuthorKind.AI,
                body=decision.reply,
                author_name="Warmline AI",
            )
        )
        if decision.escalates:
            break
    assert decision is not None  # every scenario has at least one turn
    return transcript, decision
