"""Order quantities (never from part numbers), pump head, bearing dimensions, and fit ranking."""

from __future__ import annotations

import pytest

from warmline.domain.packet import Constraint
from warmline.escalation.extract import extract_constraints, extract_order_quantities
from warmline.escalation.fit import constraint_fit, fit_score
from warmline.escalation.grounding import _plural

# --- quantities -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Please price 750 HG-0400-109 gearboxes for Q3", [(750, "gearboxes", "HG-0400-109")]),
        ("we'd take 40 x CP-060-14", [(40, "pcs", "CP-060-14")]),
        ("Need 1200 of the PF-ST-08G14-062 next month", [(1200, "pcs", "PF-ST-08G14-062")]),
        ("30 WB-305513-006s for the spares store", [(30, "pcs", "WB-305513-006")]),
        ("3k pcs of the M12 cordset", [(3000, "pcs", None)]),
        ("Order: 25 pumps, 60 sensors", [(25, "pumps", None), (60, "sensors", None)]),
        ("qty 2,500 please", [(2500, "pcs", None)]),
    ],
)
def test_quantities_come_from_counts(text: str, expected: list[tuple[float, str, str | None]]) -> None:
    found = [(q.amount, q.unit, q.sku) for q in extract_order_quantities(text)]
    assert found == expected


@pytest.mark.parametrize(
    "text",
    [
        "Does the GX-240 gearbox have a stainless housing?",
        "Two HG-0750-037 gearboxes or one GM-220-010?",  # digits inside part numbers only
        "Is the 6205-2RS bearing in the 2024 catalogue?",
        "the CP-010-13 pumps run at 400 V",
        "a 30x55x13 bearing with 2RS seals",
        "We run the 400 series at 60 degrees",
    ],
)
def test_part_numbers_and_bare_numbers_are_not_quantities(text: str) -> None:
    assert extract_order_quantities(text) == []


def test_plural_part_numbers_are_recognised() -> None:
    assert _plural("GX-240S") and _plural("HG-0400-109s")
    assert not _plural("6205-2RS") and not _plural("IPS")


# --- pump head and bearing dimensions --------------------------------------------------------


def _named(text: str) -> dict[str, tuple[str, str]]:
    return {c.name: (c.value, c.unit) for c in extract_constraints(text)}


@pytest.mark.parametrize(
    ("text", "head"),
    [
        ("circulating glycol, 40 l/min against 18 m head", ("18", "m")),
        ("total head of about 45 m at 25 l/min", ("45", "m")),
        ("we need at least 60 ft head", ("≥ 18.288", "m")),
    ],
)
def test_delivery_head_is_a_pump_requirement(text: str, head: tuple[str, str]) -> None:
    named = _named(text)
    assert named["head"] == head
    assert "length" not in named and "dimension" not in named


def test_a_cable_length_is_still_a_length() -> None:
    assert _named("M12 cable, 10 m long")["length"] == ("10 m", "")


@pytest.mark.parametrize(
    ("text", "dims"),
    [
        ("deep groove bearing 17x40x12, shielded", ("17", "40", "12")),
        ("Need 6 pcs of 45 x 75 x 16 mm bearings", ("45", "75", "16")),
        ("bearing 12×32×10", ("12", "32", "10")),
    ],
)
def test_bearing_boundary_dimensions(text: str, dims: tuple[str, str, str]) -> None:
    named = _named(text)
    assert (named["bore"][0], named["outer_diameter"][0], named["width"][0]) == dims
    assert named["bore"][1] == "mm" and "cross_section" not in named


def test_other_triples_are_not_bearings() -> None:
    named = _named("control cabinet 600x400x250 mm")
    assert "bore" not in named and "outer_diameter" not in named
    assert _named("sealed both sides")["seal"] == ("2RS", "")
    assert _named("metal shields please")["seal"] == ("2Z", "")


# --- fit ranking ------------------------------------------------------------------------------


def C(name: str, value: str, unit: str = "") -> Constraint:
    return Constraint(name=name, value=value, unit=unit)


def test_the_closest_minimum_fits_best() -> None:
    need = [C("torque", "300", "N·m"), C("voltage", "400", "V")]
    exact = {"torque": "300 N·m", "voltage": "230–400 V"}
    bigger = {"torque": "600 N·m", "voltage": "400 V"}
    short = {"torque": "250 N·m", "voltage": "400 V"}
    assert fit_score(exact, need) > fit_score(bigger, need) > fit_score(short, need)
    assert constraint_fit(short, need[0]) == 0.0
    assert constraint_fit(exact, need[0]) == 1.0
    # an explicit minimum is met by any bigger rating just as well
    assert constraint_fit(bigger, C("torque", "≥ 300", "N·m")) == constraint_fit(
        exact, C("torque", "≥ 300", "N·m")
    )


def test_a_part_far_above_an_asked_minimum_is_no_fit() -> None:
    """A 750 N·m gearbox beside a 180 N·m need: beyond the catalog's oversize factor it ranks
    with the parts that miss, explicit minimum or not (issue 17 item 7)."""
    huge = {"torque": "750 N·m", "ip": "IP65"}
    close = {"torque": "220 N·m", "ip": "IP65"}
    for torque in (C("torque", "≥ 180", "N·m"), C("torque", "180", "N·m")):
        assert constraint_fit(huge, torque, "gearbox") == 0.0
        assert constraint_fit(close, torque, "gearbox") > 0.5
        need = [torque, C("ip", "IP65")]
        assert fit_score(close, need, "gearbox") > fit_score(huge, need, "gearbox")
    # within the factor a bigger rating still meets an explicit minimum in full
    assert constraint_fit({"torque": "440 N·m"}, C("torque", "≥ 180", "N·m"), "gearbox") == 1.0
    # only where the family is sized by the attribute: a 16 bar fitting suits 6 bar shop air
    assert constraint_fit({"pressure": "16 bar"}, C("pressure", "6", "bar"), "pneumatic_fitting") > 0.5


def test_identity_attributes_and_unrequested_special_variants() -> None:
    need = [C("tube_size", "6", "mm"), C("thread", "G1/8")]
    standard = {"tube_od": "6 mm", "thread": "G1/8", "pressure": "16 bar"}
    atex = {"tube_od": "6 mm", "thread": "G1/8", "pressure": "16 bar", "atex": "II 2G Ex h IIC T4 Gb"}
    wrong_tube = {"tube_od": "10 mm", "thread": "G1/8"}
    assert fit_score(standard, need) > fit_score(atex, need) > fit_score(wrong_tube, need)
    asked_atex = [*need, C("atex", "II 2G")]
    assert fit_score(atex, asked_atex) > fit_score(standard, asked_atex)


def test_pump_pressure_in_bar_is_compared_with_head() -> None:
    assert constraint_fit({"head": "25 m"}, C("pressure", "2", "bar"), "pump") == pytest.approx(
        0.5 + 0.5 * 20.4 / 25
    )
    assert constraint_fit({"head": "12 m"}, C("pressure", "2", "bar"), "pump") == 0.0


def test_ranges_ratings_and_text() -> None:
    assert constraint_fit({"temperature": "-10–80 °C"}, C("temperature", "≤ 70", "°C")) == 1.0
    assert constraint_fit({"temperature": "-10–60 °C"}, C("temperature", "≤ 70", "°C")) == 0.0
    assert constraint_fit({"ip": "IP67"}, C("ip", "IP67")) == 1.0
    assert constraint_fit({"ip": "IP68"}, C("ip", "IP67")) == 1.0
    assert constraint_fit({"ip": "IP54"}, C("ip", "IP67")) == 0.0
    assert constraint_fit({"material": "stainless steel"}, C("material", "stainless steel")) == 1.0
    assert constraint_fit({"material": "brass"}, C("material", "stainless steel")) == 0.0
    assert 0 < constraint_fit({}, C("material", "brass")) < 0.5  # not stated: neither fit nor miss
