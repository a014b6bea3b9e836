"""The assistant's command line: ``/spec GX-240``, ``/subs GX-220 torque>=180Nm ip>=65``... -> AssistRequest.

A pure function (no Qt, no I/O), so the panel, the tests and anything else read commands
the same way. Errors are ``CommandError`` naming the field (``command``, ``skus``,
``constraints``, ``document``, ``query``) and saying what to type instead.

Grammar (words split on whitespace; commas also separate SKUs)::

    /spec SKU [SKU ...]            spec sheets; no SKU = the packet's SKUs when given
    /subs SKU [constraint ...]     substitutes; constraints like torque>=180Nm, ip>=65,
                                   "torque >= 180 Nm" (spaces allowed); none = the packet's
    /acc SKU                       accessories and complements
    /compare SKU SKU [SKU SKU]     2 to 4 side by side
    /sum DOCUMENT                  summary of one document, by title or ref
    /draft [instructions]          a reply draft grounded in the packet and the catalog
    /search TEXT  or plain TEXT    catalog search (free text and filters)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from warmline.domain.assist import MAX_COMPARE, AssistKind, AssistRequest

# name -> kind; aliases a specialist is likely to type
COMMANDS: dict[str, AssistKind] = {
    "spec": AssistKind.SPEC,
    "specs": AssistKind.SPEC,
    "subs": AssistKind.SUBSTITUTES,
    "sub": AssistKind.SUBSTITUTES,
    "substitutes": AssistKind.SUBSTITUTES,
    "acc": AssistKind.ACCESSORIES,
    "accessories": AssistKind.ACCESSORIES,
    "compare": AssistKind.COMPARE,
    "cmp": AssistKind.COMPARE,
    "sum": AssistKind.SUMMARY,
    "summary": AssistKind.SUMMARY,
    "draft": AssistKind.DRAFT,
    "search": AssistKind.SEARCH,
    "find": AssistKind.SEARCH,
}

# what the command box offers while typing "/" (one per kind, in this order)
COMMAND_HELP: list[tuple[str, str]] = [
    ("/spec", "/spec SKU [SKU…] — spec sheets"),
    ("/subs", "/subs SKU [torque>=180Nm ip>=65] — substitutes"),
    ("/acc", "/acc SKU — accessories"),
    ("/compare", "/compare SKU SKU [SKU SKU] — side by side"),
    ("/sum", "/sum DOCUMENT — summarise a document"),
    ("/draft", "/draft [what the reply should do] — reply draft"),
    ("/search", "/search TEXT — catalog search (or just type)"),
]

# commands whose arguments are SKUs (the command box completes SKUs there)
SKU_COMMANDS = frozenset(
    {"spec", "specs", "subs", "sub", "substitutes", "acc", "accessories", "compare", "cmp"}
)

_OPERATOR = re.compile(r"(>=|<=|≥|≤|!=|=|>|<|~|:)")
_STARTS_WITH_OPERATOR = re.compile(r"^(>=|<=|≥|≤|!=|=|>|<|~|:)")
_SPACED_OPERATOR = re.compile(r"\s*(>=|<=|≥|≤|!=|=|>|<|~)\s*")


class CommandError(ValueError):
    """A command that cannot become a request: which field, and why (a sentence)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class CommandInfo:
    """What the user is typing right now (for completion): the command and the word at the end."""

    command: str | None  # "spec", "subs"... (None for plain text)
    word: str  # the partial word under the cursor (at the end)
    wants_sku: bool  # True when that word is a SKU position


def _split_skus(words: Sequence[str]) -> list[str]:
    out: list[str] = []
    for w in words:
        out.extend(p for p in w.split(",") if p)
    return out


def _is_constraint_start(word: str) -> bool:
    return bool(_OPERATOR.search(word))


def _constraints(words: Sequence[str]) -> list[str]:
    """Group words into constraints: ``torque>=180Nm ip>=65`` -> 2; ``torque >= 180 Nm`` -> 1.

    Spaces around an operator are dropped first; then a word with an operator starts a
    constraint and a word without one (a unit: ``Nm``) belongs to the one before it.
    """
    text = _SPACED_OPERATOR.sub(r"\1", " ".join(words).replace(",", " "))
    groups: list[list[str]] = []
    for w in text.split():
        if _OPERATOR.search(w):
            if _STARTS_WITH_OPERATOR.match(w) or w.endswith((">", "<", "=", "~", ":", "≥", "≤")):
                raise CommandError("constraints", f"{w!r} is incomplete; write it like torque>=180Nm")
            groups.append([w])
        elif groups:
            groups[-1].append(w)
        else:
            raise CommandError(
                "constraints",
                f"{w!r} is not a constraint like torque>=180Nm or ip>=65 (/subs takes one SKU)",
            )
    return [" ".join(g) for g in groups]


def parse_command(text: str, *, default_skus: Sequence[str] = ()) -> AssistRequest:
    """Read one line of the command box; raises CommandError naming the field and the fix."""
    line = (text or "").strip()
    if not line:
        raise CommandError("command", "type a command like /spec GX-240, or words to search the catalog")
    if not line.startswith("/"):
        return _request(AssistKind.SEARCH, query=line)
    head, _, rest = line[1:].partition(" ")
    name = head.strip().lower()
    rest = rest.strip()
    kind = COMMANDS.get(name)
    if kind is None:
        known = ", ".join(c for c, _ in COMMAND_HELP)
        raise CommandError("command", f"unknown command /{name or ''}; try {known}")
    words = rest.split()

    if kind is AssistKind.SPEC:
        skus = _split_skus(words) or list(default_skus)
        if not skus:
            raise CommandError("skus", "name at least one SKU, e.g. /spec GX-240")
        return _request(kind, skus=_dedupe(skus))
    if kind in (AssistKind.SUBSTITUTES, AssistKind.ACCESSORIES):
        if not words:
            raise CommandError("skus", f"name one SKU, e.g. /{head.lower()} GX-220")
        if kind is AssistKind.ACCESSORIES:
            skus = _split_skus(words)
            if len(skus) != 1:
                raise CommandError(
                    "skus", f"/{head.lower()} takes one SKU, got {len(skus)}: {' '.join(skus)}"
                )
            return _request(kind, skus=skus)
        first = words[0].rstrip(",")
        if _is_constraint_start(first):
            raise CommandError("skus", f"name the SKU first, then constraints: /subs GX-220 {first}")
        constraints = _constraints(words[1:]) if len(words) > 1 else None
        return _request(kind, skus=[first], constraints=constraints)
    if kind is AssistKind.COMPARE:
        skus = _dedupe(_split_skus(words))
        if not 2 <= len(skus) <= MAX_COMPARE:
            raise CommandError(
                "skus",
                f"compare needs 2 to {MAX_COMPARE} different SKUs, got {len(skus)}: /compare GX-220 GX-240",
            )
        return _request(kind, skus=skus)
    if kind is AssistKind.SUMMARY:
        if not rest:
            raise CommandError("document", "name the document (its title or ref), e.g. /sum GX-240 datasheet")
        return _request(kind, document=rest)
    if kind is AssistKind.DRAFT:
        return _request(kind, instructions=rest or None)
    if not rest:
        raise CommandError("query", "type what to search for, e.g. /search washdown gearbox ip>=66")
    return _request(kind, query=rest)


def _dedupe(skus: Sequence[str]) -> list[str]:
    seen: dict[str, str] = {}
    for s in skus:
        seen.setdefault(s.casefold(), s)
    return list(seen.values())


def _request(kind: AssistKind, **fields: object) -> AssistRequest:
    try:
        return AssistRequest(kind=kind, **fields)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err.get("loc", ()) if p != "__root__"]
        msg = str(err.get("msg", "invalid"))
        msg = msg.removeprefix("Value error, ")
        field, sep, reason = msg.partition(": ")
        if sep and not loc:
            raise CommandError(field, reason) from None
        raise CommandError(loc[0] if loc else "command", msg) from None


def describe(request: AssistRequest) -> str:
    """The command that would make this request (history, card titles while waiting)."""
    k = request.kind
    if k is AssistKind.SPEC:
        return "/spec " + " ".join(request.skus)
    if k is AssistKind.SUBSTITUTES:
        return " ".join(["/subs", *request.skus, *(request.constraints or [])])
    if k is AssistKind.ACCESSORIES:
        return "/acc " + " ".join(request.skus)
    if k is AssistKind.COMPARE:
        return "/compare " + " ".join(request.skus)
    if k is AssistKind.SUMMARY:
        return f"/sum {request.document or ''}".strip()
    if k is AssistKind.DRAFT:
        return f"/draft {request.instructions or ''}".strip()
    return request.query or ""


def command_at_end(text: str) -> CommandInfo:
    """Which command is being typed and the word being completed (the text's last word)."""
    ends_with_space = bool(text) and text[-1].isspace()
    words = text.split()
    word = "" if ends_with_space or not words else words[-1]
    if not text.startswith("/"):
        return CommandInfo(None, word, False)
    head = words[0][1:].lower() if words else ""
    if len(words) <= 1 and not ends_with_space:
        return CommandInfo(None, word, False)  # still typing the command itself
    args_before = len(words) - 1 - (0 if ends_with_space else 1)
    wants = head in SKU_COMMANDS and not _OPERATOR.search(word)
    if head in ("subs", "sub", "substitutes", "acc", "accessories") and args_before >= 1:
        wants = False  # past the one SKU: constraints now (subs) or nothing more (acc)
    return CommandInfo(head, word, wants)
