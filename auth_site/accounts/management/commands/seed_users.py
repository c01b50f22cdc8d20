"""`manage.py seed_users`: staff groups and permissions, the superuser, demo accounts.

    manage.py seed_users                       # groups + superuser (password from the env)
    manage.py seed_users --dev --customers 50  # + demo staff and 50 demo customers

The superuser comes from DJANGO_SUPERUSER_EMAIL (default admin@tienda.local) and
DJANGO_SUPERUSER_PASSWORD. A default password (tienda-admin-2026) is used only in
dev mode (DJANGO_DEBUG=1 or --dev); otherwise a missing password is an error, so
production never gets a known one. Demo accounts, which have known passwords,
exist only in dev mode. Run it again at any time: same rows, passwords reset.
"""

import os
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.seeding import DEMO_STAFF, users_seed

DEFAULT_SUPERUSER_EMAIL = "admin@tienda.local"
DEV_SUPERUSER_PASSWORD = "tienda-admin-2026"
DEMO_STAFF_PASSWORD = "tienda-staff-2026"
DEMO_CUSTOMER_PASSWORD = "tienda-demo-2026"


class Command(BaseCommand):
    help = "Seed staff groups (with catalog/carts/orders permissions), the superuser and demo accounts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dev",
            action="store_true",
            help="Development data: default superuser password and demo staff accounts "
            "(implied by DJANGO_DEBUG=1).",
        )
        parser.add_argument(
            "--customers",
            type=int,
            default=0,
            metavar="N",
            help="Demo customers customer1@example.com … customerN@example.com (dev mode only).",
        )
        parser.add_argument(
            "--customer-password",
            default=DEMO_CUSTOMER_PASSWORD,
            help=f"Password of every demo customer (default {DEMO_CUSTOMER_PASSWORD}).",
        )

    def handle(self, *args, dev, customers, customer_password, **options):
        dev = dev or settings.DEBUG
        if customers < 0:
            raise CommandError("--customers must be 0 or more.")
        if not customer_password:
            raise CommandError("--customer-password must not be empty.")
        if customers and not dev:
            raise CommandError("Demo customers have a known password: pass --dev to create them.")
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL") or DEFAULT_SUPERUSER_EMAIL
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD") or (
            DEV_SUPERUSER_PASSWORD if dev else None
        )
        if password is None:
            raise CommandError(
                "Set DJANGO_SUPERUSER_PASSWORD (a default password is used only with --dev "
                "or DJANGO_DEBUG=1)."
            )

        started = time.monotonic()
        result = users_seed(
            superuser_email=email,
            superuser_password=password,
            staff_password=DEMO_STAFF_PASSWORD if dev else None,
            customers=customers,
            customer_password=customer_password,
        )
        self.stdout.write(
            f"{result.permissions} permissions, {result.groups} groups; superuser {email}"
        )
        if result.staff:
            self.stdout.write(
                f"demo staff: {', '.join(DEMO_STAFF)} (password {DEMO_STAFF_PASSWORD})"
            )
        if customers:
            self.stdout.write(
                f"demo customers: {result.customers_created} created, "
                f"{result.customers_updated} reset, {result.addresses_created} addresses added "
                f"(password {customer_password})"
            )
        self.stdout.write(
            self.style.SUCCESS(f"seed_users done in {time.monotonic() - started:.1f}s")
        )
