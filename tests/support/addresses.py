"""An address as a storefront sends it (lower-case country, a spaced phone)."""

ADDRESS = {
    "full_name": "Ana Torres",
    "line1": "Gran Vía 1",
    "line2": "3º B",
    "city": "Madrid",
    "region": "Madrid",
    "postal_code": "28013",
    "country": "es",
    "phone": "+34 612 34 56 78",
}
