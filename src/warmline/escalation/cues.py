"""Cue tables the engine reads buyer text with: purchase and system-design cues, installation
words, back-references, successor words, the attributes a question can ask about, and the
catalog filter vocabulary. Plain data; the logic lives in ``engine``, ``assist`` and ``query``.
"""

from __future__ import annotations

import re

from warmline.escalation.intents import Intent
from warmline.escalation.text import PhraseSet

PURCHASE_CUES = {
    "order_intent": PhraseSet(
        [
            "place an order",
            "place the order",
            "ready to order",
            "want to order",
            "we'll order",
            "we will order",
            "ready to buy",
            "want to buy",
            "purchase order",
            "send a po",
            "issue a po",
            "buy it",
            "order it",
            "go ahead and order",
        ]
    ),
    "standardization": PhraseSet(
        [
            "standardize",
            "standardise",
            "standardizing",
            "standardising",
            "multiple sites",
            "across sites",
            "all our sites",
            "all our plants",
            "every site",
            "roll out",
            "rollout",
            "fleet wide",
            "company wide",
            "company-wide",
        ]
    ),
    "urgent_need": PhraseSet(
        [
            "spec this today",
            "help me spec",
            "today",
            "asap",
            "urgent",
            "urgently",
            "line is down",
            "line down",
            "production stopped",
            "avoid downtime",
            "downtime",
            "machine down",
            "standstill",
            "emergency",
        ]
    ),
}
SYSTEM_DESIGN = PhraseSet(
    [
        "full assembly",
        "complete system",
        "whole system",
        "system design",
        "full system",
        "entire line",
        "design the",
        "custom",
        "modified",
        "tailor-made",
        "engineered to order",
        "application review",
        "complete skid",
        "full package",
        "turnkey",
    ]
)
INSTALLATION = PhraseSet(
    [
        "our current",
        "our existing",
        "existing",
        "current unit",
        "current one",
        "installed",
        "our old",
        "old unit",
        "our machine",
        "our line",
        "our setup",
        "our system",
        "our installation",
        "in place",
        "we have now",
        "we use now",
        "currently use",
        "mounting pattern",
        "bolt pattern",
        "footprint",
        "shaft",
        "flange",
        "fit our",
    ]
)
PERSON_KIND = [
    ("sales", ("sales", "rep", "representative", "account manager", "salesperson")),
    ("engineer", ("engineer", "technician", "expert", "specialist")),
    ("support", ("support",)),
]
REFERENT = re.compile(
    r"\b(this|that|it|its|these|those|them|they|the same)\b(?!\s+(month|week|year|morning|quarter))", re.I
)
# Pronouns that point back at a product already under discussion ("what's its IP rating?",
# "is it stainless?"). "that" is left out: it is mostly a relative pronoun ("a pump that ...").
BACK_REFERENCE = re.compile(r"\b(it|its|it's|they|them|their|this one|that one|the same one)\b", re.I)
# A turn that continues the previous one without naming its product: "and the mounting?",
# "what about the weight", "also, ...".
ELLIPSIS = re.compile(r"^\W*(and|also|what about|how about|plus|same for)\b", re.I)
# Words that point from a superseded product to the one that replaced it.
SUCCESSOR = PhraseSet(
    [
        "successor",
        "the replacement",
        "its replacement",
        "the new one",
        "the newer one",
        "the new model",
        "the current model",
        "the newer model",
        "what replaces",
        "what replaced",
        "replaced by",
        "took its place",
    ],
    max_gap=0,
)
ASKED_ATTRIBUTES = {
    "torque": ["torque", "nm"],
    "voltage": ["voltage", "volt", "volts"],
    "ip": ["ip rating", "ip", "ingress", "waterproof", "washdown rated"],
    "pressure": ["pressure", "bar", "psi"],
    "temperature": ["temperature", "temp", "heat"],
    "flow": ["flow", "flow rate", "capacity"],
    "speed": ["speed", "rpm"],
    "ratio": ["ratio", "reduction"],
    "thread": ["thread", "port"],
    "material": ["material", "stainless", "brass", "made of"],
    "mounting": [
        "mounting",
        "mounted",
        "mounting pattern",
        "bolt pattern",
        "flange",
        "footprint",
        "shaft",
        "hollow shaft",
    ],
    "bore": ["bore", "inner diameter"],
    "outer_diameter": ["outer diameter", "outside diameter", "od"],
    "width": ["width", "how wide", "wide is"],
    "seal": ["sealed", "seal type", "shielded", "shields"],
    "current": [
        "rated current",
        "current rating",
        "nominal current",
        "max current",
        "amps",
        "amperage",
        "current draw",
    ],
    "washdown": ["washdown", "wash down", "wash-down"],
    "head": ["head", "delivery head"],
    "dynamic_load": ["load rating", "dynamic load", "load"],
    "mass": ["weight", "mass", "heavy"],
    "power": ["power", "kw"],
    "atex": ["atex", "ex rating"],
    "medium": ["fluid", "medium", "media", "glycol", "oil"],
    "poles": ["pins", "poles", "pin", "contacts", "number of contacts"],
    "length": ["length", "long"],
    "output": ["output signal", "output type", "signal"],
    "sensing_range": ["sensing range", "range", "distance"],
}
ASKED_SETS = {k: PhraseSet(v, max_gap=0) for k, v in ASKED_ATTRIBUTES.items()}
SEARCH_FILTERS = {
    "voltage",
    "torque",
    "ip",
    "pressure",
    "flow",
    "temperature",
    "bore",
    "power",
    "thread",
    "poles",
    "head",
    "outer_diameter",
    "width",
}
# A stated requirement that answers a clarifying question about another attribute: a pump's
# delivery head ("30 m head") is its pressure requirement.
SATISFIES = {"head": "pressure"}
INTENT_VALUES = {i.value for i in Intent}
# Intents whose turn, naming a product, is answered from that product's data ("right now"
# makes a question urgent, not a catalog-wide search).
LOOKUP_INTENTS = (Intent.LOOKUP, Intent.OTHER, Intent.DOCUMENT_REQUEST, Intent.URGENT_SUPPORT)
# How many search hits the shortlist ranking looks at (one spec sheet each).
RANK_POOL = 8
OPS = {"≥": ">=", "≤": "<=", ">": ">", "<": "<"}
AT_LEAST = {"torque", "flow", "pressure", "power", "ip", "head"}
EQUALS = {
    "voltage": "voltage",
    "temperature": "temperature",
    "bore": "bore",
    "outer_diameter": "outer_diameter",
    "width": "width",
    "tube_size": "tube_od",
    "poles": "poles",
    "thread": "thread",
    "length": "length",
    "washdown": "washdown",
}
FILLER = {
    "need",
    "needs",
    "want",
    "use",
    "looking",
    "look",
    "find",
    "get",
    "something",
    "one",
    "ones",
    "some",
    "like",
    "good",
    "best",
    "recommend",
    "suggest",
    "should",
    "would",
    "could",
    "ok",
    "okay",
    "thanks",
    "hi",
    "hello",
    "yes",
    "also",
    "which",
    "what",
    "please",
    "mm",
    "bar",
    "nm",
    "v",
    "kw",
    "c",
}
