"""Release reservations still `reserved` past their expiry (their stock goes back).

Once, from cron:          manage.py release_expired_reservations
Forever, in a container:  manage.py release_expired_reservations --loop 60

Safe to run while the shop serves and even twice at once: each reservation is
re-checked under its row lock, so a commit that wins the race keeps its stock.
"""

from catalog.services import release_expired_reservations
from shopkit.commands import PeriodicCommand


class Command(PeriodicCommand):
    help = "Release expired stock reservations; with --loop SECONDS, keep doing it."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--batch-size", type=int, default=200)

    def run_once(self, *, batch_size, **options):
        released = release_expired_reservations(batch_size=batch_size)
        self.stdout.write(f"Released {released} expired reservation(s).")
