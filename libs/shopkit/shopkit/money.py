"""Money arithmetic shared by cart and orders, so both show the same totals.

Prices are net (tax-exclusive) decimals in the shop currency. Tax is computed
per line and rounded half-up to the cent; the totals are sums of rounded lines:

    line_total = unit_price × quantity
    line_tax   = round_half_up(line_total × tax_rate, 0.01)
    subtotal   = Σ line_total,  tax = Σ line_tax,  total = subtotal + tax
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def tax_rate_text(rate) -> str:
    """A tax rate as written everywhere: at least two decimals, more only when needed
    ("0.21", "0.10", "0.055")."""
    rate = Decimal(rate)
    exact = rate.normalize()
    shown = rate.quantize(CENT) if exact == rate.quantize(CENT) else exact
    return format(shown, "f")


@dataclass(frozen=True)
class LineAmounts:
    line_total: Decimal
    line_tax: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax: Decimal
    total: Decimal


def line_amounts(unit_price: Decimal, quantity: int, tax_rate: Decimal) -> LineAmounts:
    line_total = to_cents(Decimal(unit_price) * quantity)
    return LineAmounts(line_total=line_total, line_tax=to_cents(line_total * Decimal(tax_rate)))


def totals(lines: list[LineAmounts]) -> Totals:
    subtotal = sum((line.line_total for line in lines), Decimal("0.00"))
    tax = sum((line.line_tax for line in lines), Decimal("0.00"))
    return Totals(subtotal=to_cents(subtotal), tax=to_cents(tax), total=to_cents(subtotal + tax))
