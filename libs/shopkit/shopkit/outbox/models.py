"""One row per email to send, written in the transaction of the change that causes it."""

from django.db import models


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "pending"  # waiting for next_attempt_at
    CLAIMED = "claimed", "claimed"  # taken by a sender (claimed_by) until claim_expires_at
    SENDING = "sending", "sending"  # handed to the email backend: never handed over again
    SENT = "sent", "sent"
    FAILED = "failed", "failed"  # gave up (attempts, or delivery unknown); staff may resend


class OutboxMessage(models.Model):
    """An email in the outbox of the service whose database holds it.

    A sender claims pending rows (SELECT ... FOR UPDATE SKIP LOCKED) with a lease,
    marks each one `sending` just before handing it to the backend, then `sent`; a
    failure puts it back to `pending` with an exponential backoff, or `failed` after
    OUTBOX_MAX_ATTEMPTS. A row left `sending` by a sender that died is never sent
    again automatically (it may have gone out): at most once.
    """

    kind = models.CharField(max_length=64, help_text="What caused it, e.g. accounts.password_reset")
    recipients = models.JSONField(help_text="List of email addresses (To).")
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    language = models.CharField(max_length=8)
    # Same key twice: the second enqueue is a no-op (e.g. one confirmation per order).
    dedupe_key = models.CharField(max_length=191, unique=True, null=True, blank=True)
    status = models.CharField(
        max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_by = models.CharField(max_length=64, blank=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The sender's claim: pending rows that are due, oldest first.
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx"),
            models.Index(fields=["status", "claim_expires_at"], name="outbox_claim_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=OutboxStatus.values), name="outbox_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {', '.join(self.recipients)} ({self.status})"
