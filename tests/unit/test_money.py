"""One rounding rule for money: banker's rounding, only when a figure is shown."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bedrock_cost.money import CENT, DOLLAR, MICRO, decimal_usd, display_usd, round_money

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("0.125", CENT, "0.12"),  # half to even, down
        ("0.135", CENT, "0.14"),  # half to even, up
        ("-0.125", CENT, "-0.12"),
        ("2.5", DOLLAR, "2"),
        ("0.0000005", MICRO, "0.000000"),
        ("0.0000015", MICRO, "0.000002"),
    ],
)
def test_rounding_is_half_even_at_every_precision(value: str, places: Decimal, expected: str) -> None:
    assert str(round_money(Decimal(value), places)) == expected


def test_machine_strings_are_plain_decimals_to_the_micro_dollar() -> None:
    assert decimal_usd(Decimal("1E+3")) == "1000.000000"
    assert decimal_usd(Decimal("1E-9")) == "0.000000"
    assert decimal_usd(Decimal("12.3456785")) == "12.345678"


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("1234.565", CENT, "$1,234.56"),
        ("1234.575", CENT, "$1,234.58"),
        ("-12", CENT, "-$12.00"),
        ("-0.004", CENT, "$0.00"),  # rounds to zero: no negative zero
        ("1234.5", DOLLAR, "$1,234"),
        ("1235.5", DOLLAR, "$1,236"),
        ("0.1234567", MICRO, "$0.123457"),
    ],
)
def test_people_see_dollars_with_thousands_separators(value: str, places: Decimal, expected: str) -> None:
    assert display_usd(Decimal(value), places) == expected
