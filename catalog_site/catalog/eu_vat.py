"""The EU's VAT rates per country, as seeded into catalog.TaxRate (migration 0005).

Standard and reduced rates of the 27 member states, compiled from the European
Commission's "VAT rates applied in the Member States" table as of CHECKED_ON. Where a
country has several reduced rates the most common one (food, books) is given, and a
super-reduced rate where one exists. Denmark has no reduced rate: its standard rate
applies to everything, so its "reduced" row is the standard rate.

This is data staff must keep current: rates change (Finland 2024, Estonia, Slovakia,
Romania 2025). Edit the rows in the catalog admin (Tax rates) and set `checked_on`.
"""

import datetime
from decimal import Decimal

CHECKED_ON = datetime.date(2025, 8, 1)

# country: (standard, reduced, super-reduced or None)
EU_VAT_RATES: dict[str, tuple[str, str, str | None]] = {
    "AT": ("0.20", "0.10", None),
    "BE": ("0.21", "0.06", None),
    "BG": ("0.20", "0.09", None),
    "CY": ("0.19", "0.05", None),
    "CZ": ("0.21", "0.12", None),
    "DE": ("0.19", "0.07", None),
    "DK": ("0.25", "0.25", None),
    "EE": ("0.24", "0.09", None),
    "ES": ("0.21", "0.10", "0.04"),
    "FI": ("0.255", "0.14", None),
    "FR": ("0.20", "0.055", "0.021"),
    "GR": ("0.24", "0.13", None),
    "HR": ("0.25", "0.13", None),
    "HU": ("0.27", "0.18", None),
    "IE": ("0.23", "0.135", "0.048"),
    "IT": ("0.22", "0.10", "0.04"),
    "LT": ("0.21", "0.09", None),
    "LU": ("0.17", "0.08", "0.03"),
    "LV": ("0.21", "0.12", None),
    "MT": ("0.18", "0.07", None),
    "NL": ("0.21", "0.09", None),
    "PL": ("0.23", "0.08", None),
    "PT": ("0.23", "0.06", None),
    "RO": ("0.21", "0.11", None),
    "SE": ("0.25", "0.12", None),
    "SI": ("0.22", "0.095", None),
    "SK": ("0.23", "0.19", None),
}


def eu_tax_rate_rows() -> list[dict]:
    """(country, tax_class, rate, checked_on) for every seeded rate."""
    rows = []
    for country, (standard, reduced, super_reduced) in sorted(EU_VAT_RATES.items()):
        rates = {"standard": standard, "reduced": reduced, "super_reduced": super_reduced}
        rows.extend(
            {
                "country": country,
                "tax_class": tax_class,
                "rate": Decimal(rate),
                "checked_on": CHECKED_ON,
            }
            for tax_class, rate in rates.items()
            if rate is not None
        )
    return rows
