"""Text helpers for the escalation engine: normalisation and typo-tolerant phrase matching.

Buyers write "can i tlak to a humna" as often as "may I speak to a person", so cue
phrases match token by token with a small edit-distance budget instead of exact
substrings. Pure functions, no dependencies beyond the standard library.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

_NOT = re.compile(r"n't\b")
_TOKEN = re.compile(r"[a-z0-9]+(?:[.,/][0-9]+)?(?:-[a-z0-9]+)*")

STOPWORDS = frozenset(
    """a an the and or but if to of in on for with at by from is are was were be been it this that
    these those i we you he she they me us my our your do does did can could would should will
    shall may might must have has had not no so as any some what which who how when where why
    there here please just also about into than then them its it's im i'm we're you're""".split()  # noqa: SIM905 - a word list reads better as prose
)


def normalize(text: str) -> str:
    """Lower-case, strip accents and curly quotes, so matching ignores typography."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.replace("’", "'").replace("‘", "'").lower()


def tokens(text: str) -> list[str]:
    """Word tokens of a text; keeps SKU-like tokens such as ``gx-240`` and decimals whole."""
    return _TOKEN.findall(_NOT.sub(" not", normalize(text)))


def content_tokens(text: str) -> list[str]:
    """Tokens without stop words: what a message is actually about."""
    return [t for t in tokens(text) if t not in STOPWORDS]


@lru_cache(maxsize=65536)
def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, capped at ``limit + 1``."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        row_min = cur[0]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
            row_min = min(row_min, cur[j])
        if row_min > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


@lru_cache(maxsize=8192)
def typo_budget(word: str) -> int:
    """How many typos a cue word tolerates: none for short words, where typos collide."""
    if len(word) <= 3 or word.isdigit():
        return 0
    if len(word) <= 8:
        return 1
    return 2


# Real words one typo away from a cue word ("quite" ~ "quote", "older" ~ "order"): a
# correctly spelled common word is never read as a typo of something else.
REAL_WORDS = frozenset(
    """quite quote note vote white write there where these those three other after older order
    later water latter letter better bitter matter master faster poster power tower lower
    rower sales tales scales stock stack stick fit fix sit six bit kit hit pit mix fine find
    mine line lane lone tone done gone bone none want went what that than then them they
    thing think thick price prize pride prime spare space share shape store stare start
    smart cable table stable fable label level lever never fever sever seven human humid
    agent urgent person prison reason season return retune rerun spec speck specs check cheek
    chuck seal steal steel sell spell shell small smell leak lead load road read real rear
    near wear year hear dear tear gear bear pair fair hair paid pain gain main rain
    test text next best rest west vest past fast last cast mast case base vase ease plus
    with wish heat held help here hold seat sent""".split()  # noqa: SIM905
)


def token_matches(cue: str, word: str) -> bool:
    """True when ``word`` is ``cue`` up to a few typos (or a prefix cue ending in ``*``)."""
    if cue.endswith("*"):
        return word.startswith(cue[:-1])
    if cue == word:
        return True
    budget = typo_budget(cue)
    if budget == 0 or not word or word[0] != cue[0] or word in REAL_WORDS:
        return False
    return edit_distance(cue, word, budget) <= budget


@dataclass(frozen=True)
class Phrase:
    """A cue phrase: its tokens must occur in order, at most ``max_gap`` words apart."""

    text: str
    words: tuple[str, ...]
    max_gap: int = 1

    @classmethod
    def of(cls, text: str, max_gap: int = 1) -> Phrase:
        words = tuple(
            w if w.endswith("*") else t for w in normalize(text).split() for t in (tokens(w) or [w])
        )
        if not words:
            raise ValueError(f"empty cue phrase: {text!r}")
        return cls(text=text, words=words, max_gap=max_gap)

    def find(self, words: Sequence[str]) -> int | None:
        """Index of the first word of a match in ``words``, or None."""
        return next(iter(self.find_all(words)), None)

    def find_all(self, words: Sequence[str]) -> list[int]:
        """Indexes of the first word of every match in ``words``."""
        first = self.words[0]
        if first.endswith("*") or typo_budget(first) > 0:
            lead = first[0]  # a typo never changes the first letter (see token_matches)
            starts = [i for i, word in enumerate(words) if word[:1] == lead and token_matches(first, word)]
        else:
            starts = [i for i, word in enumerate(words) if word == first]  # exact words: no typo search
        return [start for start in starts if self._rest_matches(words, start + 1, 1)]

    @property
    def negative(self) -> bool:
        """A cue that is itself a negation ("not working") or names something to avoid
        ("downtime": "we cannot afford any downtime" is still urgent) is never negated."""
        return any(w in NEGATORS for w in self.words) or self.text in NEGATION_INVARIANT

    def _rest_matches(self, words: Sequence[str], pos: int, k: int) -> bool:
        if k == len(self.words):
            return True
        cue = self.words[k]
        for offset in range(self.max_gap + 1):
            i = pos + offset
            if i >= len(words):
                return False
            word = words[i]
            if word[:1] == cue[:1] and token_matches(cue, word) and self._rest_matches(words, i + 1, k + 1):
                return True
        return False


class PhraseSet:
    """A named list of cue phrases; ``matches`` says which ones occur in a text."""

    def __init__(self, phrases: Iterable[str], max_gap: int = 1) -> None:
        self.phrases = [Phrase.of(p, max_gap) for p in phrases]

    def matches(self, text: str | Sequence[str]) -> list[str]:
        words = tokens(text) if isinstance(text, str) else text
        return [p.text for p in self.phrases if p.find(words) is not None]

    def positions(self, text: str | Sequence[str]) -> list[tuple[str, int]]:
        words = tokens(text) if isinstance(text, str) else text
        found = []
        for p in self.phrases:
            at = p.find(words)
            if at is not None:
                found.append((p.text, at))
        return found

    def affirmed_positions(self, text: str | Scoped) -> list[tuple[str, int]]:
        """Like ``positions``, but only occurrences outside a negation scope count.

        "I'm not asking about price" mentions price without asking for it; a cue phrase
        that is itself negative ("not working") is taken as written.
        """
        scoped = text if isinstance(text, Scoped) else scope(text)
        found = []
        for p in self.phrases:
            for at in p.find_all(scoped.words):
                if p.negative or not scoped.negated(at, len(p.words)):
                    found.append((p.text, at))
                    break
        return found

    def affirmed(self, text: str | Scoped) -> list[str]:
        """The cue phrases that occur in ``text`` outside a negation scope."""
        return [phrase for phrase, _ in self.affirmed_positions(text)]


def similarity(a: str, b: str) -> float:
    """How alike two buyer messages are in what they ask about (0..1), robust to typos.

    Content words are paired greedily allowing typos; the score is the share of the
    shorter message's words that found a partner, so a rephrased question with a few
    extra words still scores high.
    """
    wa, wb = content_tokens(a), content_tokens(b)
    if not wa or not wb:
        return 0.0
    if len(wa) > len(wb):
        wa, wb = wb, wa
    unused = list(wb)
    hits = 0
    for w in wa:
        for i, v in enumerate(unused):
            if token_matches(w, v) or _same_stem(w, v):
                hits += 1
                del unused[i]
                break
    return hits / len(wa)


def _same_stem(a: str, b: str) -> bool:
    """Cheap stemming: 'fits' ~ 'fit', 'mounting' ~ 'mount' (first 5 letters agree)."""
    return len(a) >= 4 and len(b) >= 4 and a[:5] == b[:5]


# --- negation scope -------------------------------------------------------------------

# Words that negate what follows them in the same clause ("n't" is already "not").
NEGATORS = frozenset({"no", "not", "never", "without", "nobody", "none", "neither", "nor", "cannot"})
# A negator followed by one of these hedges or widens rather than negates ("not sure
# what it costs", "not only the price", "no idea about lead times").
_NOT_A_NEGATION = frozenset({"sure", "idea", "only", "just", "yet", "too", "clear", "certain"})
# Words that end a negation's scope inside a clause ("not for ATEX, just shop air").
_SCOPE_BREAK = frozenset({"but", "only", "just", "instead", "however", "though", "although", "except"})
# Clause boundaries: sentence and clause punctuation, and a dash between spaces. A comma or
# full stop inside a number ("1,5", "2.2") is not a boundary.
_CLAUSE_BREAK = re.compile(r"[;:!?()\[\]\n]|[.,](?=\s|$)|\s[-\u2013\u2014]+\s")
# A negation after the cue: "price is not important", "lead time doesn't matter".
_AFTER_NEGATION = re.compile(
    r"^(?:(?:is|are|does|do|really|totally)\s+){0,2}not\s+(?:really\s+|a\s+|an\s+|the\s+)?"
    r"(?:important|relevant|needed|required|necessary|matter|matters|issue|concern|problem|priority)\b"
)
NEGATION_WINDOW = 5
# Cues naming something the buyer wants to avoid: negating them keeps their meaning.
NEGATION_INVARIANT = frozenset(
    {
        "downtime",
        "avoid downtime",
        "standstill",
        "stand still",
        "line down",
        "line is down",
        "delay",
        "delays",
    }
)


@dataclass(frozen=True)
class Scoped:
    """A text's tokens with the clause each belongs to, for negation-aware matching."""

    words: tuple[str, ...]
    clauses: tuple[int, ...]

    def negated(self, at: int, length: int = 1) -> bool:
        """True when the words at ``at`` are inside a negation's scope.

        The scope is the same clause, at most ``NEGATION_WINDOW`` words back, and stops
        at words such as "but", "only", "just" ("not for ATEX, just shop air"); "rather
        than" negates too. A negation right after the cue ("price is not important")
        counts as well.
        """
        clause = self.clauses[at] if at < len(self.clauses) else -1
        for j in range(at - 1, max(-1, at - 1 - NEGATION_WINDOW), -1):
            if self.clauses[j] != clause:
                break
            word = self.words[j]
            if word in _SCOPE_BREAK:
                break
            if word in NEGATORS:
                following = self.words[j + 1] if j + 1 < len(self.words) else ""
                if following not in _NOT_A_NEGATION:
                    return True
            if word == "than" and "rather" in self.words[max(0, j - NEGATION_WINDOW) : j]:
                return True
        end = at + length
        after = [
            w
            for w, c in zip(self.words[end : end + 6], self.clauses[end : end + 6], strict=True)
            if c == clause
        ]
        return bool(_AFTER_NEGATION.match(" ".join(after)))


@lru_cache(maxsize=4096)
def scope(text: str) -> Scoped:
    """Tokenise ``text`` clause by clause, keeping which clause each token is in."""
    words: list[str] = []
    clauses: list[int] = []
    for i, part in enumerate(_CLAUSE_BREAK.split(normalize(text))):
        found = _TOKEN.findall(_NOT.sub(" not", part))
        words += found
        clauses += [i] * len(found)
    return Scoped(tuple(words), tuple(clauses))


def is_negated(text: str, phrase: str) -> bool:
    """True when ``phrase`` occurs in ``text`` only inside negation scopes."""
    phrases = PhraseSet([phrase])
    return bool(phrases.matches(text)) and not phrases.affirmed(text)
