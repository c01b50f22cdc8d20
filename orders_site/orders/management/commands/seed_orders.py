"""`manage.py seed_orders --orders N`: demo orders through the real checkout, over HTTP.

    manage.py seed_orders --orders 50                      # through the gateway on :8080
    manage.py seed_orders --orders 50 --seed 7 --customers 20 --base-url http://gateway

First makes the demo shipping zones (Spain; rest of the EU) and methods (standard,
express, free over 50 EUR) unless they exist. Needs the shop running with demo data: auth's `seed_users --dev --customers N` and
catalog's `seed_catalog`. Same seed and catalogue, same orders; running it again
replays the same checkouts (same Idempotency-Keys) instead of ordering twice.
"""

from django.core.management.base import BaseCommand, CommandError

from orders.seeding import SeedingError, orders_seed
from orders.services.shipping import shipping_seed

DEMO_CUSTOMER_PASSWORD = "tienda-demo-2026"  # auth's seed_users default


class Command(BaseCommand):
    help = "Create demo orders through the public API (sign in, fill the cart, check out)."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=20, help="How many (default 20).")
        parser.add_argument("--seed", type=int, default=0, help="Same seed, same orders.")
        parser.add_argument(
            "--customers",
            type=int,
            default=10,
            help="Spread the orders over customer1 … customerN@example.com (default 10).",
        )
        parser.add_argument(
            "--customer-password",
            default=DEMO_CUSTOMER_PASSWORD,
            help=f"The demo customers' password (default {DEMO_CUSTOMER_PASSWORD}).",
        )
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8080",
            help="Where the public API answers: the gateway (default http://127.0.0.1:8080).",
        )

    def handle(self, *args, orders, seed, customers, customer_password, base_url, **options):
        if orders < 0 or customers < 1:
            raise CommandError("--orders must be ≥ 0 and --customers ≥ 1.")
        verbosity = options["verbosity"]

        def progress(done, result):
            if verbosity >= 1 and (done % 10 == 0 or done == orders):
                self.stdout.write(
                    f"  {done}/{orders}: {result.created} created, {result.replayed} replayed, "
                    f"{result.skipped_out_of_stock} skipped (out of stock)"
                )

        zones, methods = shipping_seed()
        if verbosity >= 1:
            self.stdout.write(f"Shipping: {zones} zones and {methods} methods created.")
        try:
            result = orders_seed(
                orders=orders,
                seed=seed,
                base_url=base_url,
                customers=customers,
                customer_password=customer_password,
                progress=progress,
            )
        except SeedingError as error:
            raise CommandError(str(error))
        self.stdout.write(
            f"Orders seeded (seed {seed}) through {base_url}: {result.created} created, "
            f"{result.replayed} already there (replayed), {result.skipped_out_of_stock} skipped "
            f"(out of stock), {result.customers_signed_in} customers."
        )
        for failure in result.failures:
            self.stderr.write(f"  failed: {failure}")
        if result.failures and not (result.created or result.replayed):
            raise CommandError("No order could be placed; see the failures above.")
