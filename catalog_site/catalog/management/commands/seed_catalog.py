"""A deterministic demo catalogue: manage.py seed_catalog --products N [--seed S].

Idempotent by sku: running it again creates only the products that are missing.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from catalog.seeding import seed_catalog

PROGRESS_FROM = 10_000  # products; smaller runs print only the summary


class Command(BaseCommand):
    help = "Create the category tree and products TND-0000001 … TND-<N> (skips existing skus)."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=200, help="How many (default 200).")
        parser.add_argument("--seed", type=int, default=0, help="Same seed, same catalogue.")
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, products, seed, batch_size, verbosity, **options):
        if products < 0 or batch_size < 1:
            raise CommandError("--products must be ≥ 0 and --batch-size ≥ 1.")
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if verbosity >= 2 or (verbosity >= 1 and total >= PROGRESS_FROM):
                elapsed = time.monotonic() - started
                self.stdout.write(f"  {done:>9,}/{total:,} products  ({elapsed:.1f}s)")

        result = seed_catalog(
            products=products, seed=seed, batch_size=batch_size, progress=progress
        )
        self.stdout.write(
            f"Catalog seeded (seed {seed}): {result.categories_created} categories created, "
            f"{result.products_created} products created, {result.products_existing} already "
            f"present, in {time.monotonic() - started:.1f}s."
        )
