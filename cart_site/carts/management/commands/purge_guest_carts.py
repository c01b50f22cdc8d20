from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from carts.services import guest_carts_purge


class Command(BaseCommand):
    help = "Delete guest carts nobody has written to for --older-than DAYS days."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            required=True,
            metavar="DAYS",
            help="Idle time (days since the cart last changed) after which a guest cart goes.",
        )

    def handle(self, *args, older_than, **options):
        if older_than < 0:
            raise CommandError("--older-than must be 0 or more days.")
        purged = guest_carts_purge(idle_for=timedelta(days=older_than))
        self.stdout.write(f"Purged {purged} guest cart(s) idle for more than {older_than} day(s).")
