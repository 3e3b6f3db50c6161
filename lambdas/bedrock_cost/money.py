"""Money formatting with one rounding rule, for every output of the product.

Figures are ``Decimal`` end to end; they are rounded only when shown, always with
banker's rounding (``ROUND_HALF_EVEN``, what CUR and the AWS console use), so a total and
the sum of its rows never drift apart by a rounding convention.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final

MICRO: Final = Decimal("0.000001")
"""Machine outputs (CSV, JSON, S3 reports) carry cost to the micro-dollar."""
CENT: Final = Decimal("0.01")
DOLLAR: Final = Decimal(1)
ROUNDING: Final = ROUND_HALF_EVEN


def round_money(value: Decimal, places: Decimal = CENT) -> Decimal:
    """``value`` rounded to ``places`` with the product's one rounding rule."""
    return value.quantize(places, rounding=ROUNDING)


def decimal_usd(value: Decimal, places: Decimal = MICRO) -> str:
    """Money as a plain decimal string for machines: ``1234.567891`` (never scientific, never float)."""
    return f"{round_money(value, places):f}"


def display_usd(value: Decimal, places: Decimal = CENT) -> str:
    """Money for people: ``$1,234.57``, ``-$12.00``, or ``$1,235`` with ``places=DOLLAR``."""
    rounded = round_money(value, places)
    sign = "-" if rounded < 0 else ""
    digits = 0 if places >= DOLLAR else len(f"{places:f}".partition(".")[2])
    return f"{sign}${abs(rounded):,.{digits}f}"
