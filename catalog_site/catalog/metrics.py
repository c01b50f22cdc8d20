"""The catalog's own metrics (shopkit.metrics serves them at /catalog/metrics)."""

from prometheus_client.core import GaugeMetricFamily

from catalog import selectors


class ReservationsHeldCollector:
    """Stock held by checkouts right now, read from the database at scrape time.

    (A gauge kept in the workers would be wrong across processes and replicas;
    the table is the truth.)
    """

    def collect(self):
        held = selectors.reservations_held()
        yield GaugeMetricFamily(
            "tienda_reservations_held",
            "Stock reservations held (reserved, neither committed nor released).",
            value=held["reservations"],
        )
        yield GaugeMetricFamily(
            "tienda_reserved_units_held",
            "Units of stock those reservations hold.",
            value=held["units"],
        )
