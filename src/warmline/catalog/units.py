"""Quantities, ratings and constraints, read from the way people and datasheets write them.

The catalog's units API in one place (other packages import from here). Where it lives:
``unit_table`` (units, dimensions, SI conversions, errors), ``ratings`` (IP, NEMA, ATEX),
``quantities`` (parsing, extraction from prose, comparison), ``constraints`` (attributes
and constraints). No I/O; the escalation engine calls these on buyer text.
"""

from __future__ import annotations

from warmline.catalog.constraints import (
    ATTRIBUTES,
    DEFAULT_ATTRIBUTE,
    MAX_CONSTRAINT_CHARS,
    PRODUCT_FIELDS,
    AttributeSpec,
    Constraint,
    attribute_key,
    attribute_spec,
    constraint_from_packet,
    parse_constraint,
)
from warmline.catalog.quantities import (
    MAX_DIGITS,
    MAX_EXTRACTED,
    MAX_MAGNITUDE,
    Quantity,
    compare,
    compare_values,
    extract_quantities,
    parse_quantity,
    rating_quantity,
)
from warmline.catalog.ratings import (
    AtexMarking,
    IPRating,
    atex_allows_zone,
    nema_satisfies,
    parse_atex,
    parse_ip,
    parse_nema,
)
from warmline.catalog.unit_table import (
    DIMENSIONS,
    DISPLAY_UNITS,
    RATING_DIMENSIONS,
    UNITS,
    ConstraintError,
    QuantityError,
    Unit,
    from_si,
    is_plain_text,
    to_si,
    unit_for,
)

__all__ = [
    "ATTRIBUTES",
    "DEFAULT_ATTRIBUTE",
    "DIMENSIONS",
    "DISPLAY_UNITS",
    "MAX_CONSTRAINT_CHARS",
    "MAX_DIGITS",
    "MAX_EXTRACTED",
    "MAX_MAGNITUDE",
    "PRODUCT_FIELDS",
    "RATING_DIMENSIONS",
    "UNITS",
    "AtexMarking",
    "AttributeSpec",
    "Constraint",
    "ConstraintError",
    "IPRating",
    "Quantity",
    "QuantityError",
    "Unit",
    "atex_allows_zone",
    "attribute_key",
    "attribute_spec",
    "compare",
    "compare_values",
    "constraint_from_packet",
    "extract_quantities",
    "from_si",
    "is_plain_text",
    "nema_satisfies",
    "parse_atex",
    "parse_constraint",
    "parse_ip",
    "parse_nema",
    "parse_quantity",
    "rating_quantity",
    "to_si",
    "unit_for",
]
