"""`manage.py send_outbox [--loop SECONDS]`: deliver the outbox's due emails.

Run once (cron, a Kubernetes CronJob) or forever (`--loop 5`: make run, compose).
Any number may run at once: each message is handed to the backend at most once.
"""

from shopkit.commands import PeriodicCommand
from shopkit.outbox.services import outbox_deliver, sender_identity


class Command(PeriodicCommand):
    help = "Send the outbox's due emails through EMAIL_URL's backend (retries with backoff)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--limit", type=int, default=None, help="at most this many per pass")

    def run_once(self, *, limit=None, **options):
        if not hasattr(self, "sender"):
            self.sender = sender_identity()
        # A batch per call until nothing is due (a pass empties the backlog).
        while True:
            report = outbox_deliver(sender=self.sender, limit=limit)
            if report.sent or report.failed or report.retried or report.lost:
                self.stdout.write(
                    f"outbox: {report.sent} sent, {report.retried} to retry, "
                    f"{report.failed} failed, {report.lost} lost in sending"
                )
            for error in report.errors[:3]:
                self.stderr.write(f"outbox: {error}")
            if not report.sent or report.retried or report.errors:
                return
