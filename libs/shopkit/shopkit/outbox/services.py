"""Writes of the outbox: enqueue (callers), claim/deliver (the send_outbox job), resend (staff).

At most once, with any number of senders: every move of a row is one conditional
UPDATE (`status` and `claimed_by` in the WHERE), so two senders can never both hand
the same row to the email backend. Claiming uses SELECT ... FOR UPDATE SKIP LOCKED
(MySQL 8, MariaDB 10.6+), so senders never wait for each other's rows.
"""

import contextlib
import logging
import os
import smtplib
import socket
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from shopkit.deadlocks import retried
from shopkit.outbox.models import OutboxMessage, OutboxStatus
from shopkit.outbox.rendering import RenderedEmail, render_email

logger = logging.getLogger("shopkit.outbox")

LOST_IN_SENDING = (
    "The sender stopped while handing this message to the email backend: it may have "
    "been delivered. Not retried automatically (at most once); resend it if it was not."
)


def outbox_database() -> str:
    """The alias the outbox lives in: the database of the service (shopkit.routers)."""
    return router.db_for_write(OutboxMessage)


def enqueue(
    *,
    kind: str,
    to: list[str] | str,
    email: RenderedEmail,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Put an email in the outbox, in the caller's open transaction on the outbox's alias.

    Call it inside `transaction.atomic(using=<the service's alias>)` next to the write
    that causes the email: both commit or neither does. Nothing is sent here, so the
    request never waits for (or fails because of) a mail server. A `dedupe_key` already
    used makes this a no-op (returns None).
    """
    alias = outbox_database()
    if not connections[alias].in_atomic_block:
        raise RuntimeError(f"enqueue() belongs inside transaction.atomic(using={alias!r})")
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise ValueError("an email needs at least one recipient")
    message = OutboxMessage(
        kind=kind,
        recipients=recipients,
        subject=email.subject,
        body_text=email.text,
        body_html=email.html,
        language=email.language,
        dedupe_key=dedupe_key,
        next_attempt_at=timezone.now(),
    )
    try:
        with transaction.atomic(using=alias):  # a savepoint: a duplicate leaves the caller's intact
            message.save(using=alias)
    except IntegrityError:
        if dedupe_key and OutboxMessage.objects.using(alias).filter(dedupe_key=dedupe_key).exists():
            return None
        raise
    return message


def enqueue_template(
    *,
    kind: str,
    to: list[str] | str,
    template: str,
    context: dict,
    language: str | None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """render_email() then enqueue(): the usual call."""
    email = render_email(template, context, language=language)
    return enqueue(kind=kind, to=to, email=email, dedupe_key=dedupe_key)


# --- the sender --------------------------------------------------------------------------


# Two senders' statements take row locks in different index orders (the claim walks
# the status index, the per-row moves the primary key), so InnoDB may pick one as a
# deadlock victim: every statement here is its own transaction and conditional, so it
# is simply run again (shopkit.deadlocks.retried).


def sender_identity() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the `attempts`-th failure: base, 2×base, 4×base... capped."""
    seconds = settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.OUTBOX_RETRY_MAX_SECONDS))


def outbox_claims_recover(*, now=None) -> tuple[int, int]:
    """Rows whose sender's lease ran out: claimed ones go back to pending (never handed
    over); `sending` ones are failed for staff to look at (they may have gone out)."""
    now = now or timezone.now()
    rows = OutboxMessage.objects.using(outbox_database())
    requeued = retried(
        lambda: rows.filter(status=OutboxStatus.CLAIMED, claim_expires_at__lt=now).update(
            status=OutboxStatus.PENDING, claimed_by="", claim_expires_at=None
        )
    )
    lost = retried(
        lambda: rows.filter(status=OutboxStatus.SENDING, claim_expires_at__lt=now).update(
            status=OutboxStatus.FAILED, last_error=LOST_IN_SENDING, claim_expires_at=None
        )
    )
    return requeued, lost


def outbox_claim(*, sender: str, limit: int, now=None) -> list[OutboxMessage]:
    """Take up to `limit` due pending rows for `sender`, with a lease of OUTBOX_CLAIM_SECONDS.

    Rows another sender is claiming right now are skipped, not waited for.
    """
    now = now or timezone.now()
    alias = outbox_database()
    rows = OutboxMessage.objects.using(alias)

    def claim() -> list[int]:
        with transaction.atomic(using=alias):
            ids = list(
                rows.select_for_update(skip_locked=True)
                .filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
                .order_by("next_attempt_at", "id")
                .values_list("id", flat=True)[:limit]
            )
            if ids:
                rows.filter(id__in=ids, status=OutboxStatus.PENDING).update(
                    status=OutboxStatus.CLAIMED,
                    claimed_by=sender,
                    claim_expires_at=now + timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS),
                )
            return ids

    ids = retried(claim)
    if not ids:
        return []
    return list(rows.filter(id__in=ids, claimed_by=sender, status=OutboxStatus.CLAIMED))


def _mark_sending(message: OutboxMessage, sender: str) -> bool:
    """The last point of no return: only the row's owner, once, moves it to `sending`."""
    now = timezone.now()
    return bool(
        retried(
            lambda: (
                OutboxMessage.objects.using(outbox_database())
                .filter(pk=message.pk, status=OutboxStatus.CLAIMED, claimed_by=sender)
                .update(
                    status=OutboxStatus.SENDING,
                    attempts=message.attempts + 1,
                    claim_expires_at=now + timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS),
                )
            )
        )
    )


def _mark_sent(message: OutboxMessage, sender: str) -> None:
    retried(
        lambda: (
            OutboxMessage.objects.using(outbox_database())
            .filter(
                pk=message.pk,
                claimed_by=sender,
                status__in=[OutboxStatus.SENDING, OutboxStatus.FAILED],  # failed: a lease ran out
            )
            .update(
                status=OutboxStatus.SENT,
                sent_at=timezone.now(),
                last_error="",
                claim_expires_at=None,
            )
        )
    )


def _is_permanent(exc: Exception) -> bool:
    """The server refused for good (5xx, every recipient refused): retrying cannot help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return True
    return isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600


def _mark_failed_attempt(message: OutboxMessage, *, attempts: int, error: str, permanent=False):
    """Back to pending after a backoff, or failed once OUTBOX_MAX_ATTEMPTS are used."""
    if permanent or attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        changes = {"status": OutboxStatus.FAILED}
    else:
        changes = {
            "status": OutboxStatus.PENDING,
            "next_attempt_at": timezone.now() + retry_delay(attempts),
        }
    retried(
        lambda: (
            OutboxMessage.objects.using(outbox_database())
            .filter(pk=message.pk, claimed_by=message.claimed_by)
            .update(
                **changes,
                attempts=attempts,
                last_error=error[:2000],
                claimed_by="",
                claim_expires_at=None,
            )
        )
    )


def _email_of(message: OutboxMessage, connection) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=message.recipients,
        connection=connection,
        headers={"Content-Language": message.language},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    return email


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    requeued: int = 0
    lost: int = 0
    errors: list[str] = field(default_factory=list)


def outbox_deliver(*, sender: str | None = None, limit: int | None = None) -> DeliveryReport:
    """One pass of the sender: recover stale claims, claim due rows, send each once."""
    sender = sender or sender_identity()
    report = DeliveryReport()
    report.requeued, report.lost = outbox_claims_recover()
    claimed = outbox_claim(sender=sender, limit=limit or settings.OUTBOX_BATCH_SIZE)
    if not claimed:
        return report
    connection = get_connection(fail_silently=False, timeout=settings.EMAIL_TIMEOUT)
    try:
        connection.open()
    except Exception as exc:  # the server is down: nothing was handed over, all retry later
        error = f"connecting to the email server failed: {exc!r}"
        report.errors.append(error)
        for message in claimed:
            _mark_failed_attempt(message, attempts=message.attempts + 1, error=error)
            report.retried += 1
        return report
    try:
        for message in claimed:
            if not _mark_sending(message, sender):
                continue  # the lease ran out and another sender took it: not ours to send
            try:
                if connection.send_messages([_email_of(message, connection)]) != 1:
                    raise RuntimeError("the email backend did not send the message")
            except Exception as exc:
                error = f"{exc!r}"
                report.errors.append(error)
                permanent = _is_permanent(exc)
                _mark_failed_attempt(
                    message, attempts=message.attempts + 1, error=error, permanent=permanent
                )
                if permanent or message.attempts + 1 >= settings.OUTBOX_MAX_ATTEMPTS:
                    report.failed += 1
                else:
                    report.retried += 1
                logger.warning("outbox message %s not sent: %s", message.pk, error)
                # The connection may be half-broken after an error: start a fresh one.
                with contextlib.suppress(Exception):  # the next send fails on its own then
                    connection.close()
                    connection.open()
            else:
                _mark_sent(message, sender)
                report.sent += 1
    finally:
        with contextlib.suppress(Exception):  # a dead server cannot say goodbye
            connection.close()
    return report


def outbox_resend(*, message_ids: list[int]) -> int:
    """Staff: send failed (or already sent) messages again, from a fresh count of attempts."""
    return (
        OutboxMessage.objects.using(outbox_database())
        .filter(pk__in=message_ids, status__in=[OutboxStatus.FAILED, OutboxStatus.SENT])
        .update(
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            claimed_by="",
            claim_expires_at=None,
        )
    )
