"""Builds ``tests/data/escalation-eval-2.jsonl``: a second blind set, for person requests.

Written by hand after the first evaluation set's figures were known (explicit-request recall
0.957) and before anything was changed in response, so that a change meant to generalise can be
checked on messages nobody tuned to. Same procedure as ``escalation_eval_build.py`` (whole
hand-written sentences, typos typed in, only product slots filled), new wordings; plus messages
that mention people without asking for one, and other reasons, so a wider person-request model
cannot win by calling everything a person request. See docs/escalation.md.

    python tests/data/escalation_eval2_build.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from escalation_eval_build import COMPANIES, SLOTS, _fill  # type: ignore[import-not-found]

OUT = Path(__file__).with_name("escalation-eval-2.jsonl")
E, A, C, N = "escalate", "answer", "clarify", "next_step"

PERSON = [
    "Mind if I speak to whoever handles pumps over there?",
    "Who's the right contact in your company for gearbox sizing? I'd like to call them.",
    "Please have your regional rep drop me a line.",
    "can somebody from ur team phone me tmrw morning",
    "I'd feel better discussing this with one of your application engineers.",
    "Could we jump on a quick call with your technical team?",
    "Are any of your product experts free to talk today?",
    "I'm after a proper person to talk this through with.",
    "pls hav a rep contact me asap",
    "Can you pass my number to your sales office so they can call?",
    "Id like someone to walk me through the options by phone",
    "Get your engineer to ring me, number's in my signature.",
    "Can I arrange a call-back from your customer service team?",
    "is ther anybody at your end i can actually speak with",
    "I'd like to set up a Teams call with a specialist.",
    "Send someone over to our site to look at it, please.",
    "I want a human to sort this out.",
    "Is a salesperson around to talk to?",
    "Can you book me a slot with your technical support?",
    "I need to discuss pricing structure with your account manager directly.",
    "Hoping to talk with someone who really knows valves.",
    "put me in contact w/ the engineering dept",
    "Could an actual person reply to me rather than the assistant?",
    "I'd appreciate it if a member of your sales staff could email me back.",
    "Can your inside sales team give me a buzz?",
    "Connect me to a live person, please.",
    "Can one of your techs come on the line?",
    "I'd prefer a phone conversation with your product team.",
    "Humans only please, this is complicated.",
    "Would your key account manager have a minute to chat?",
    "We'd like your application engineer to visit our plant.",
    "Any way to get an engineer's opinion over the phone?",
    "please forward this to a real sales rep",
    "I need to talk this over with your tech guys",
    "Talking to someone in person would help a lot here.",
    "Reaching a human in your support team would be great.",
    "can i get a person on chat instead of the bot",
    "Let me have a word with your sales manager.",
    "I'd like a specialist to contact me regarding {g}.",
    "Could a colleague of yours call me about {p}?",
]
PERSON_LATE = [
    (
        ["What's the torque of {g}?", "Thanks. Could one of your engineers phone me about mounting it?"],
        [A, E],
    ),
    (["Datasheet for {v} please", "Cheers - is there a person I could go through it with?"], [N, E]),
    (["IP rating of {c}?", "ok. I'd like a callback from sales please"], [A, E]),
    (["What voltage is {m}?", "right, id rather talk to a human now"], [A, E]),
    (["How many poles has {c}?", "Please get a specialist to contact me."], [A, E]),
]
MENTIONS = [
    (["Our engineer asked me for the torque of {g}."], [A]),
    (["My colleague needs the datasheet for {v}."], [N]),
    (["I don't need anyone to call me, just the IP rating of {m}."], [A]),
    (["No human needed, what's the thread on {f}?"], [A]),
    (["Our maintenance guy says {p} needs a bigger flow - what's its flow?"], [A]),
    (["The sales rep at our distributor mentioned {g}. What's its ratio?"], [A]),
    (["Please don't have anyone phone me; what's the voltage of {v}?"], [A]),
    (["My boss wants to compare {g} and {g2}."], [N]),
    (["Our technician will install {c} - how many poles does it have?"], [A]),
    (["I'll talk to our engineer and come back. What's the mass of {g}?"], [A]),
    (["no call needed thanks, just tell me the power of {m}"], [A]),
    (["Our purchasing team asked for the datasheet of {p}."], [N]),
    (["The operator on our line asked what IP rating {m} has."], [A]),
    (["I'm the engineer here; what's the pressure rating of {v}?"], [A]),
    (["we have our own specialists, just need the thread of {p}"], [A]),
]
OTHER = [
    (["Is {g} in stock at the moment?"], [E], "live_data"),
    (["How much would 3 of {p} cost us?"], [E], "live_data"),
    (["Please quote 4 of {v}."], [E], "purchase_intent"),
    (["We'd like to order {m}."], [E], "purchase_intent"),
    (["We need 200 {g}."], [E], "policy_rule"),
    (["Is {v} certified for ATEX zone 2?"], [E], "policy_rule"),
    (["We need help designing the full pump and valve system for a new plant."], [E], "complexity"),
    (["What's the IP rating of {m}?", "That's not what I asked at all."], [A, E], "complexity"),
    (["Where's our order 77812?"], [E], "live_data"),
    (["Lead time for {c} to Oslo?"], [E], "live_data"),
]


def build() -> list[dict]:
    rng = random.Random(20261205)
    rows: list[dict] = []

    def add(prefix: str, turns: list[str], outcomes: list[str], reason: str | None) -> None:
        used: dict[str, str] = {}
        at = outcomes.index(E) if E in outcomes else None
        rows.append(
            {
                "id": f"ev2-{prefix}-{len(rows):03d}",
                "account": {"company": rng.choice(COMPANIES), "tier": rng.choice(["standard", "key"])},
                "buyer_turns": [_fill(t, rng, used) for t in turns],
                "expected": {
                    "outcomes": outcomes,
                    "escalate_at": at,
                    "reason": reason if at is not None else None,
                },
            }
        )

    for text in PERSON:
        add("er", [text], [E], "explicit_request")
    for turns, outs in PERSON_LATE:
        add("er", turns, outs, "explicit_request")
    for turns, outs in MENTIONS:
        add("ok", turns, outs, None)
    for turns, outs, reason in OTHER:
        add("ot", turns, outs, reason)
    assert set(SLOTS)  # the same product slots as the first set
    return rows


def main() -> None:
    rows = build()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} conversations -> {OUT}")


if __name__ == "__main__":
    main()
