"""Units, ratings and constraints: conversions and comparisons (property-based) and parsing."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warmline.catalog.units import (
    ConstraintError,
    QuantityError,
    compare,
    constraint_from_packet,
    extract_quantities,
    from_si,
    nema_satisfies,
    parse_atex,
    parse_constraint,
    parse_ip,
    parse_quantity,
    to_si,
)
from warmline.domain.packet import Constraint as PacketConstraint

# unit spelling -> (dimension, SI per unit, offset)
UNITS = {
    "V": ("voltage", 1.0, 0.0),
    "kV": ("voltage", 1e3, 0.0),
    "A": ("current", 1.0, 0.0),
    "W": ("power", 1.0, 0.0),
    "kW": ("power", 1e3, 0.0),
    "N·m": ("torque", 1.0, 0.0),
    "Nm": ("torque", 1.0, 0.0),
    "kN·m": ("torque", 1e3, 0.0),
    "bar": ("pressure", 1e5, 0.0),
    "psi": ("pressure", 6894.757293168, 0.0),
    "MPa": ("pressure", 1e6, 0.0),
    "°C": ("temperature", 1.0, 273.15),
    "l/min": ("flow", 1e-3 / 60, 0.0),
    "m³/h": ("flow", 1 / 3600, 0.0),
    "mm": ("length", 1e-3, 0.0),
    "in": ("length", 0.0254, 0.0),
    "kg": ("mass", 1.0, 0.0),
    "r/min": ("speed", 1 / 60, 0.0),
}
values = st.floats(min_value=0.001, max_value=1e5, allow_nan=False, allow_infinity=False)


def _text(v: float) -> str:
    return f"{v:.6g}".replace("e+0", "e").lstrip()


@given(st.sampled_from(sorted(UNITS)), values)
def test_parse_matches_the_unit_definition(unit: str, value: float) -> None:
    text = f"{value:.4f} {unit}"
    dim, factor, offset = UNITS[unit]
    q = parse_quantity(text)
    assert q.dimension == dim
    assert math.isclose(q.value, float(f"{value:.4f}") * factor + offset, rel_tol=1e-9, abs_tol=1e-12)


@given(st.sampled_from(sorted(UNITS)), st.sampled_from(sorted(UNITS)), values)
def test_conversion_round_trips_within_a_dimension(a: str, b: str, value: float) -> None:
    if UNITS[a][0] != UNITS[b][0]:
        return
    there = from_si(to_si(value, a), b)
    back = from_si(to_si(there, b), a)
    assert math.isclose(back, value, rel_tol=1e-9, abs_tol=1e-9)


@given(st.integers(min_value=1, max_value=2000), st.integers(min_value=1, max_value=2000))
def test_torque_compares_across_units(n_newton_m: int, milli_knm: int) -> None:
    have = parse_quantity(f"{milli_knm / 1000:.3f} kN·m")  # e.g. 0.200 kN·m = 200 N·m
    want = parse_quantity(f"{n_newton_m} Nm")
    assert compare(have, ">=", want) is (milli_knm >= n_newton_m)
    assert compare(have, "<", want) is (milli_knm < n_newton_m)


@given(st.integers(min_value=-40, max_value=200))
def test_fahrenheit_and_celsius_agree(celsius: int) -> None:
    f = celsius * 9 / 5 + 32
    assert compare(parse_quantity(f"{f:.4f} °F"), "=", parse_quantity(f"{celsius} °C")) is True


@given(st.integers(0, 6), st.integers(0, 9), st.integers(0, 6), st.integers(0, 9))
def test_ip_is_digit_by_digit(s1: int, w1: int, s2: int, w2: int) -> None:
    have, need = parse_ip(f"IP{s1}{w1}"), parse_ip(f"IP{s2}{w2}")
    assert have.satisfies(need) is (s1 >= s2 and w1 >= w2)


def test_issue_examples() -> None:
    assert compare(parse_quantity("0.2 kN·m"), ">", parse_constraint("torque above 180 Nm").value) is True
    assert compare(parse_quantity("IP66"), ">=", parse_constraint("ip>=65").value) is True
    assert compare(parse_quantity("IP54"), ">=", parse_quantity("IP65")) is False
    assert compare(parse_quantity("87 psi"), ">=", parse_quantity("6 bar")) is False  # 5.998 bar
    assert compare(parse_quantity("88 psi"), ">=", parse_quantity("6 bar")) is True
    assert compare(parse_quantity("1.2 m³/h"), "=", parse_quantity("20 l/min")) is True
    assert compare(parse_quantity("230/400 V"), "=", parse_quantity("400 V")) is True
    assert compare(parse_quantity("-20...+80 °C"), ">=", parse_quantity("80 °C")) is True
    assert compare(parse_quantity("-20...+80 °C"), ">=", parse_quantity("90 °C")) is False
    assert parse_quantity("0.5 in").display() == "12.7 mm"
    assert parse_quantity("1450 rpm").display() == "1450 r/min"


def test_ratings() -> None:
    assert nema_satisfies("4X", "4") and nema_satisfies("4X", "12") and not nema_satisfies("12", "4")
    m = parse_atex("II 2G Ex db IIC T4 Gb")
    assert (m.category, m.atmosphere, m.gas_group, m.temp_class, m.epl, m.protection) == (
        2,
        "G",
        "IIC",
        4,
        "Gb",
        "db",
    )
    assert m.satisfies(parse_atex("II 2G IIB T3"))
    assert not m.satisfies(parse_atex("II 1G"))
    assert not m.satisfies(parse_atex("T6"))
    assert compare(parse_quantity("II 2G Ex h IIC T4 Gb"), ">=", parse_constraint("zone:1").value) is True
    assert compare(parse_quantity("II 3G Ex nA IIC T4 Gc"), ">=", parse_constraint("zone:1").value) is False


@pytest.mark.parametrize(
    ("text", "described"),
    [
        ("torque>=180Nm", "torque ≥ 180 N·m"),
        ("torque > 0.2 kN·m", "torque > 200 N·m"),
        ("ip>=65", "ip ≥ IP65"),
        ("IP65", "ip ≥ IP65"),
        ("voltage:400V", "voltage = 400 V"),
        ("400V", "voltage = 400 V"),
        ("family:gearbox", "family = gearbox"),
        ("washdown:yes", "washdown = yes"),
        ("pressure at least 6 bar", "pressure ≥ 6 bar"),
        ("nema>=4X", "nema ≥ NEMA 4X"),
        ("Rated torque >= 180 N·m", "torque ≥ 180 N·m"),
        ("flow>=1.2 m3/h", "flow ≥ 20 l/min"),
    ],
)
def test_parse_constraint(text: str, described: str) -> None:
    assert parse_constraint(text).describe() == described


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("torque>=180 furlongs", "furlongs"),
        ("torque>=abc", "abc"),
        ("ip>=IP6", "IP6"),
        ("8 mm", "8 mm"),
        ("family>gearbox", ">"),
        ("voltage>=", "voltage>="),
    ],
)
def test_constraint_errors_name_the_part(text: str, part: str) -> None:
    with pytest.raises(ConstraintError) as info:
        parse_constraint(text)
    assert info.value.part == part
    assert repr(part) in str(info.value)


def test_quantity_errors() -> None:
    with pytest.raises(QuantityError, match="unknown unit 'furlongs'"):
        parse_quantity("12 furlongs")
    with pytest.raises(QuantityError, match="has no unit"):
        parse_quantity("12")


def test_packet_constraints() -> None:
    c = constraint_from_packet(PacketConstraint(name="torque", value="> 180", unit="N·m"))
    assert c.describe() == "torque > 180 N·m"
    c = constraint_from_packet(PacketConstraint(name="voltage", value="400", unit="V"))
    assert c.describe() == "voltage = 400 V"
    c = constraint_from_packet(PacketConstraint(name="ip", value="IP65"))
    assert c.op == "=" and c.value.rating == "IP65"


def test_extract_quantities_from_a_buyer_message() -> None:
    text = (
        "Replacement for the GX-200 on an M12-wired line: 400 V, IP65, torque above 180 Nm, "
        "coolant at 20 l/min and 80 °C, NEMA 4X box, II 2G Ex h IIC T4 Gb; 1,5 kW motor within 3 months."
    )
    found = [(text[a:b], q.dimension, q.display()) for (a, b), q in extract_quantities(text)]
    assert found == [
        ("400 V", "voltage", "400 V"),
        ("IP65", "ip", "IP65"),
        ("180 Nm", "torque", "180 N·m"),
        ("20 l/min", "flow", "20 l/min"),
        ("80 °C", "temperature", "80 °C"),
        ("NEMA 4X", "nema", "NEMA 4X"),
        ("II 2G Ex h IIC T4 Gb", "atex", "II 2G Ex h IIC T4 Gb"),
        ("1,5 kW", "power", "1.5 kW"),
    ]


# --- issue 19: extraction is linear (bounded tokens), never a stall on a hostile message ---------


def _unbounded_repeats(pattern: re.Pattern[str]) -> list[str]:
    """Repeats in ``pattern`` without an upper bound (``*``, ``+``, ``{n,}``), by their opcode."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser as p  # type: ignore[attr-defined]

    bad: list[str] = []
    repeats = {c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", c.MAX_REPEAT)}

    def walk(items: object) -> None:
        for op, av in items:  # type: ignore[attr-defined]
            if op in repeats:
                lo, hi, sub = av
                if hi == c.MAXREPEAT:
                    bad.append(f"{op} {{{lo},}}")
                walk(sub)
            elif op is c.SUBPATTERN:
                walk(av[-1])
            elif op is c.BRANCH:
                for alt in av[1]:
                    walk(alt)
            elif op in (c.ASSERT, c.ASSERT_NOT):
                walk(av[1])
            elif op is getattr(c, "ATOMIC_GROUP", None):
                walk(av)

    walk(p.parse(pattern.pattern, pattern.flags))
    return bad


def test_extraction_patterns_have_only_bounded_repeats() -> None:
    from warmline.catalog.quantities import _quantity_re
    from warmline.catalog.ratings import _ATEX_FIND_RE, _IP_RE, _NEMA_RE

    for pattern in (_quantity_re(False), _quantity_re(True), _ATEX_FIND_RE, _IP_RE, _NEMA_RE):
        assert _unbounded_repeats(pattern) == [], pattern.pattern[:80]
    # the walker does see an unbounded repeat
    assert _unbounded_repeats(re.compile(r"\d+ V")) != []


def test_number_token_length_is_bounded() -> None:
    from warmline.catalog.units import MAX_DIGITS

    longest = "9" * MAX_DIGITS
    assert parse_quantity(f"{longest} V").value == float(longest)
    assert [q.value for _, q in extract_quantities(f"at {longest} V")] == [float(longest)]
    too_long = "9" * (MAX_DIGITS + 1)
    with pytest.raises(QuantityError):
        parse_quantity(f"{too_long} V")
    # a longer digit run is no quantity at all (not its last MAX_DIGITS digits either)
    assert extract_quantities(f"at {too_long} V") == []
    assert extract_quantities(f"{'1' * 400} Nm and 180 Nm")[0][1].display() == "180 N·m"
    with pytest.raises(QuantityError):
        parse_quantity("9" * 400 + " N·m")


@pytest.mark.parametrize(
    ("unit", "n"),
    [
        ("1", 7_000),
        ("1", 50_000),
        ("1.1.", 50_000),
        ("-", 50_000),
        ("1-", 50_000),
        ("kNm", 50_000),
        ("1,", 50_000),
        ("1    ", 50_000),
        ("II 2G Ex ", 50_000),
        ("NEMA ", 50_000),
        ("IP6", 50_000),
        ("12345678901234567890 V ", 50_000),
        ("1 ", 50_000),
    ],
)
def test_hostile_messages_finish_and_find_nothing_false(unit: str, n: int) -> None:
    text = (unit * (n // len(unit) + 1))[:n]
    found = extract_quantities(text)
    if unit in ("II 2G Ex ",):
        assert 0 < len(found) <= 200 and all(q.dimension == "atex" for _, q in found)
    else:
        assert found == []


def test_extraction_keeps_the_first_items_up_to_the_limit() -> None:
    from warmline.catalog.units import MAX_EXTRACTED

    text = "400 V, " * 1000
    found = extract_quantities(text)
    assert len(found) == MAX_EXTRACTED
    assert found[0][0] == (0, 5) and all(q.display() == "400 V" for _, q in found)
    assert len(extract_quantities(text, limit=3)) == 3


def test_long_constraints_are_refused_not_scanned() -> None:
    with pytest.raises(ConstraintError, match="longer than 300"):
        parse_constraint("torque>=" + " " * 5000 + "1 Nm")
    assert parse_constraint("torque >=    180 Nm").describe() == "torque ≥ 180 N·m"
