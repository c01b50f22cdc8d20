from decimal import Decimal

from shopkit.money import line_amounts, totals


def test_line_tax_is_rounded_half_up_per_line():
    amounts = line_amounts(Decimal("0.05"), 1, Decimal("0.10"))  # 0.005 -> 0.01
    assert amounts.line_total == Decimal("0.05")
    assert amounts.line_tax == Decimal("0.01")


def test_totals_are_sums_of_rounded_lines():
    lines = [
        line_amounts(Decimal("19.99"), 3, Decimal("0.21")),  # 59.97, tax 12.5937 -> 12.59
        line_amounts(Decimal("4.10"), 2, Decimal("0.04")),  # 8.20, tax 0.328 -> 0.33
    ]
    result = totals(lines)
    assert result.subtotal == Decimal("68.17")
    assert result.tax == Decimal("12.92")
    assert result.total == Decimal("81.09")


def test_empty_totals_are_zero_with_cents():
    result = totals([])
    assert str(result.subtotal) == "0.00" and str(result.total) == "0.00"


def test_tax_rates_read_with_at_least_two_decimals():
    from shopkit.fields import TaxRateField

    field = TaxRateField()
    shown = {
        rate: field.to_representation(Decimal(rate))
        for rate in ("0.2100", "0.1", "0", "0.055", "1")
    }
    assert shown == {"0.2100": "0.21", "0.1": "0.10", "0": "0.00", "0.055": "0.055", "1": "1.00"}
    assert field.to_internal_value("0.055") == Decimal("0.0550")
