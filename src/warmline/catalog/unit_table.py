"""Units of measure: every spelling Warmline reads, each dimension's SI base unit, conversions.

Every quantity is kept in the SI base unit of its dimension (torque in N·m, pressure in Pa,
flow in m³/s...), so "torque above 180 Nm" compares with "0.2 kN·m". Also the errors the
unit modules raise and the check that a text is storable. Public names are re-exported by
``warmline.catalog.units``, where other packages import them from.
"""

from __future__ import annotations

from dataclasses import dataclass


class QuantityError(ValueError):
    """Text that is not a quantity this module understands."""

    def __init__(self, text: str, reason: str = "not a quantity with a known unit") -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{text!r}: {reason}")


class ConstraintError(ValueError):
    """A constraint that cannot be read; ``part`` is the piece not understood."""

    def __init__(self, text: str, part: str, reason: str) -> None:
        self.text = text
        self.part = part
        self.reason = reason
        super().__init__(f"cannot read constraint {text!r}: {part!r} {reason}")


def is_plain_text(text: str) -> bool:
    """No NUL and no lone surrogate: text every database stores and every catalog value can be."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- units -----------------------------------------------------------------------------

# dimension -> (SI base unit label, display unit)
DIMENSIONS: dict[str, tuple[str, str]] = {
    "voltage": ("V", "V"),
    "current": ("A", "A"),
    "power": ("W", "kW"),
    "torque": ("N·m", "N·m"),
    "force": ("N", "kN"),
    "pressure": ("Pa", "bar"),
    "temperature": ("K", "°C"),
    "flow": ("m³/s", "l/min"),
    "length": ("m", "mm"),
    "area": ("m²", "mm²"),
    "mass": ("kg", "kg"),
    "speed": ("1/s", "r/min"),
    "number": ("", ""),
}
RATING_DIMENSIONS = ("ip", "nema", "atex")


@dataclass(frozen=True, slots=True)
class Unit:
    symbol: str  # canonical spelling
    dimension: str
    factor: float  # SI = value * factor + offset
    offset: float = 0.0


_UNIT_SPELLINGS: list[tuple[tuple[str, ...], Unit]] = [
    (("V", "v", "volt", "volts", "Volt"), Unit("V", "voltage", 1.0)),
    (("kV", "kv"), Unit("kV", "voltage", 1e3)),
    (("mV",), Unit("mV", "voltage", 1e-3)),
    (("A", "amp", "amps", "ampere", "amperes"), Unit("A", "current", 1.0)),
    (("mA",), Unit("mA", "current", 1e-3)),
    (("kA",), Unit("kA", "current", 1e3)),
    (("W", "watt", "watts"), Unit("W", "power", 1.0)),
    (("kW", "kw"), Unit("kW", "power", 1e3)),
    (("MW",), Unit("MW", "power", 1e6)),
    (("hp", "HP"), Unit("hp", "power", 745.699872)),
    (("N·m", "Nm", "N.m", "N*m", "N-m", "N m", "N⋅m", "nm", "NM"), Unit("N·m", "torque", 1.0)),
    (("kN·m", "kNm", "kN.m", "kN*m", "kN-m", "kN m", "kN⋅m", "knm"), Unit("kN·m", "torque", 1e3)),
    (
        ("lbf·ft", "lb-ft", "lbf-ft", "lbft", "ft-lb", "ft·lbf", "ft-lbf"),
        Unit("lbf·ft", "torque", 1.3558179483),
    ),
    (("N",), Unit("N", "force", 1.0)),
    (("kN", "kn"), Unit("kN", "force", 1e3)),
    (("Pa",), Unit("Pa", "pressure", 1.0)),
    (("kPa", "kpa"), Unit("kPa", "pressure", 1e3)),
    (("MPa", "mpa"), Unit("MPa", "pressure", 1e6)),
    (("bar", "Bar", "BAR"), Unit("bar", "pressure", 1e5)),
    (("mbar",), Unit("mbar", "pressure", 1e2)),
    (("psi", "PSI"), Unit("psi", "pressure", 6894.757293168)),
    (("°C", "ºC", "degC", "deg C", "℃", "C"), Unit("°C", "temperature", 1.0, 273.15)),
    (
        ("°F", "ºF", "degF", "deg F", "℉", "F"),
        Unit("°F", "temperature", 5.0 / 9.0, 273.15 - 32.0 * 5.0 / 9.0),
    ),
    (("K",), Unit("K", "temperature", 1.0)),
    (("l/min", "L/min", "lpm", "LPM", "l/mn", "ltr/min"), Unit("l/min", "flow", 1e-3 / 60.0)),
    (("l/s", "L/s"), Unit("l/s", "flow", 1e-3)),
    (("l/h", "L/h"), Unit("l/h", "flow", 1e-3 / 3600.0)),
    (("m³/h", "m3/h", "m^3/h", "cbm/h"), Unit("m³/h", "flow", 1.0 / 3600.0)),
    (("m³/s", "m3/s"), Unit("m³/s", "flow", 1.0)),
    (("gpm", "GPM", "US gpm"), Unit("gpm", "flow", 3.785411784e-3 / 60.0)),
    (("mm",), Unit("mm", "length", 1e-3)),
    (("cm",), Unit("cm", "length", 1e-2)),
    (("m",), Unit("m", "length", 1.0)),
    (("µm", "um", "μm"), Unit("µm", "length", 1e-6)),
    (("in", "inch", "inches", '"', "″"), Unit("in", "length", 0.0254)),
    (("ft", "feet"), Unit("ft", "length", 0.3048)),
    (("mm²", "mm2", "mm^2", "sq mm", "sqmm"), Unit("mm²", "area", 1e-6)),
    (("kg", "Kg", "KG"), Unit("kg", "mass", 1.0)),
    (("g",), Unit("g", "mass", 1e-3)),
    (("t",), Unit("t", "mass", 1e3)),
    (("lb", "lbs"), Unit("lb", "mass", 0.45359237)),
    (
        ("r/min", "rpm", "RPM", "min-1", "min⁻¹", "1/min", "rev/min", "U/min", "r.p.m."),
        Unit("r/min", "speed", 1 / 60),
    ),
    (("r/s", "rps", "1/s", "rev/s"), Unit("r/s", "speed", 1.0)),
]
# Spellings too ambiguous to pick out of free text ("80 C", "3 t", "in").
_STRICT_ONLY = {"C", "F", "K", "t", "in", '"', "″", "g", "N m", "nm", "NM", "v", "kn", "kv"}

UNITS: dict[str, Unit] = {}
for _spellings, _unit in _UNIT_SPELLINGS:
    for _s in _spellings:
        UNITS[_s] = _unit
DISPLAY_UNITS: dict[str, Unit] = {u.symbol: u for _, u in _UNIT_SPELLINGS}


def unit_for(symbol: str) -> Unit:
    """The unit spelled ``symbol`` (any accepted spelling); KeyError if unknown."""
    symbol = symbol.strip()
    if symbol in UNITS:
        return UNITS[symbol]
    squeezed = symbol.replace(" ", "")
    if squeezed in UNITS:
        return UNITS[squeezed]
    raise KeyError(symbol)


def to_si(value: float, unit: str) -> float:
    """``value`` in ``unit`` expressed in the SI base unit of its dimension."""
    u = unit_for(unit)
    return value * u.factor + u.offset


def from_si(value_si: float, unit: str) -> float:
    """An SI value expressed in ``unit``."""
    u = unit_for(unit)
    return (value_si - u.offset) / u.factor
