"""shopkit.outbox in the service that installs it (auth): enqueue, the sender, recovery,
resend, rendering and configuration, on MariaDB, delivering to a real SMTP server on
loopback (tests/support/smtp_sink.py)."""

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connections, transaction
from django.test import override_settings
from django.utils import timezone

from shopkit.outbox.config import email_settings
from shopkit.outbox.models import OutboxMessage, OutboxStatus
from shopkit.outbox.rendering import RenderedEmail, render_email
from shopkit.outbox.services import (
    LOST_IN_SENDING,
    enqueue,
    outbox_claim,
    outbox_database,
    outbox_deliver,
    outbox_resend,
    retry_delay,
)
from shopkit.routers import AUTH_DB
from tests.support.databases import BOTH_DATABASES
from tests.support.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)


def an_email(subject="Hola", language="es") -> RenderedEmail:
    return RenderedEmail(subject=subject, text="Texto\n", html="<p>Texto</p>", language=language)


def queue(count=1, **kwargs) -> list[OutboxMessage]:
    with transaction.atomic(using=AUTH_DB):
        return [
            enqueue(kind="test.kind", to=f"c{n}@example.com", email=an_email(f"S{n}"), **kwargs)
            for n in range(count)
        ]


@pytest.fixture
def smtp(settings):
    sink = SmtpSink().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    yield sink
    sink.stop()


# --- enqueue -------------------------------------------------------------------------


def test_the_outbox_lives_in_the_services_own_database():
    assert outbox_database() == AUTH_DB  # auth's; orders' would be ecommerce_db
    assert "outbox_outboxmessage" in connections[AUTH_DB].introspection.table_names()
    assert "outbox_outboxmessage" not in connections["ecommerce"].introspection.table_names()


def test_enqueue_commits_or_rolls_back_with_the_callers_transaction():
    [kept] = queue()
    with pytest.raises(RuntimeError), transaction.atomic(using=AUTH_DB):
        enqueue(kind="test.kind", to="gone@example.com", email=an_email())
        raise RuntimeError("the change that caused it failed")
    [row] = OutboxMessage.objects.all()
    assert row.pk == kept.pk
    assert (row.status, row.attempts, row.recipients) == ("pending", 0, ["c0@example.com"])
    assert row.next_attempt_at <= timezone.now()


def test_enqueue_outside_a_transaction_is_a_programming_error(transactional_db):
    with pytest.raises(RuntimeError, match=r"transaction\.atomic"):
        enqueue(kind="test.kind", to="a@example.com", email=an_email())
    assert not OutboxMessage.objects.exists()


def test_a_dedupe_key_queues_once_and_keeps_the_callers_transaction_usable():
    with transaction.atomic(using=AUTH_DB):
        first = enqueue(kind="k", to="a@example.com", email=an_email(), dedupe_key="order-1")
        again = enqueue(kind="k", to="a@example.com", email=an_email(), dedupe_key="order-1")
        other = enqueue(kind="k", to="a@example.com", email=an_email(), dedupe_key="order-2")
    assert first is not None and again is None and other is not None
    assert OutboxMessage.objects.count() == 2


# --- the sender ----------------------------------------------------------------------


def test_the_sender_delivers_text_and_html_to_the_recipients(smtp, settings):
    settings.DEFAULT_FROM_EMAIL = "Tienda <shop@example.com>"
    queue(3)
    report = outbox_deliver()
    assert report.sent == 3
    received = smtp.wait_for(lambda messages: len(messages) == 3)
    assert sorted(m.recipients[0] for m in received) == [f"c{n}@example.com" for n in range(3)]
    first = next(m for m in received if m.recipients == ["c0@example.com"])
    assert first.subject == "S0"
    assert first.text.strip() == "Texto" and first.html == "<p>Texto</p>"
    assert first.message["Content-Language"] == "es"
    assert first.mail_from == "shop@example.com"
    rows = OutboxMessage.objects.all()
    assert {(r.status, r.attempts, r.claimed_by) for r in rows} == {("sent", 1, rows[0].claimed_by)}
    assert all(r.sent_at is not None for r in rows)
    assert outbox_deliver().sent == 0  # nothing is sent twice
    assert len(smtp.messages()) == 3


def test_a_server_that_is_down_delays_the_mail_with_backoff_and_loses_none(smtp, settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    queue(2)
    smtp.stop()
    report = outbox_deliver()
    assert (report.sent, report.retried) == (0, 2)
    for row in OutboxMessage.objects.all():
        assert (row.status, row.attempts) == ("pending", 1)
        assert "connecting to the email server failed" in row.last_error
        assert timedelta(seconds=25) < row.next_attempt_at - timezone.now() <= timedelta(seconds=30)
    smtp.start()
    assert outbox_deliver().sent == 0  # not due yet: the backoff holds
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    assert outbox_deliver().sent == 2
    assert sorted(m.subject for m in smtp.messages()) == ["S0", "S1"]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}


def test_temporary_refusals_back_off_exponentially_then_fail_after_max_attempts(smtp, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.OUTBOX_RETRY_BASE_SECONDS = 10
    smtp.refuse = "451 4.3.0 try again later"
    [message] = queue()
    delays = []
    for _ in range(3):
        outbox_deliver()
        message.refresh_from_db()
        delays.append(message.next_attempt_at)
        OutboxMessage.objects.filter(pk=message.pk, status="pending").update(
            next_attempt_at=timezone.now()
        )
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 3)
    assert "451" in message.last_error
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [10, 20, 40]
    assert smtp.messages() == []
    assert outbox_deliver().sent == 0  # failed stays failed until staff resend


def test_a_permanent_refusal_fails_at_once(smtp):
    smtp.refuse = "550 5.1.1 no such mailbox"
    [message] = queue()
    report = outbox_deliver()
    message.refresh_from_db()
    assert report.failed == 1
    assert (message.status, message.attempts) == ("failed", 1)
    assert "550" in message.last_error


def test_staff_resend_sends_a_failed_message_again(smtp):
    smtp.refuse = "550 5.1.1 no such mailbox"
    [message] = queue()
    outbox_deliver()
    smtp.refuse = None
    assert outbox_resend(message_ids=[message.pk]) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 0)
    assert outbox_deliver().sent == 1
    assert [m.subject for m in smtp.messages()] == ["S0"]
    [pending] = queue()
    assert outbox_resend(message_ids=[pending.pk]) == 0  # only failed or sent ones


def test_an_expired_claim_goes_back_but_a_message_lost_in_sending_never_goes_twice(smtp):
    claimed, sending = queue(2)
    past = timezone.now() - timedelta(seconds=1)
    OutboxMessage.objects.filter(pk=claimed.pk).update(
        status="claimed", claimed_by="dead", claim_expires_at=past
    )
    OutboxMessage.objects.filter(pk=sending.pk).update(
        status="sending", claimed_by="dead", claim_expires_at=past, attempts=1
    )
    report = outbox_deliver()
    assert (report.requeued, report.lost, report.sent) == (1, 1, 1)
    claimed.refresh_from_db()
    sending.refresh_from_db()
    assert claimed.status == "sent"
    assert (sending.status, sending.last_error) == ("failed", LOST_IN_SENDING)
    assert [m.subject for m in smtp.messages()] == ["S0"]


def test_a_claim_skips_rows_another_sender_holds_locked(transactional_db):
    queue(4)
    alias = outbox_database()
    # Another sender's claim transaction, still open, holds the two oldest rows.
    other = connections.create_connection(alias)
    try:
        with other.cursor() as cursor:
            cursor.execute("START TRANSACTION")
            cursor.execute(
                "SELECT id FROM outbox_outboxmessage ORDER BY id LIMIT 2 FOR UPDATE SKIP LOCKED"
            )
            held = {row[0] for row in cursor.fetchall()}
            mine = outbox_claim(sender="me", limit=10)  # does not wait for the lock
            assert {m.pk for m in mine}.isdisjoint(held)
            assert len(mine) == 2
            cursor.execute("ROLLBACK")
    finally:
        other.close()


def test_two_concurrent_senders_send_each_message_exactly_once(transactional_db, smtp, settings):
    settings.OUTBOX_BATCH_SIZE = 7  # many small claims, so the two interleave
    queue(60)
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def sender(name):
        try:
            barrier.wait()
            while (report := outbox_deliver(sender=name)).sent:
                reports.append(report)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sender, args=(f"sender-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    received = smtp.wait_for(lambda messages: len(messages) >= 60)
    subjects = [m.subject for m in received]
    assert sorted(subjects) == sorted(f"S{n}" for n in range(60))  # each once
    rows = OutboxMessage.objects.all()
    assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {1}
    assert {r.claimed_by for r in rows} == {"sender-0", "sender-1"}  # both took a share


def test_send_outbox_command_runs_one_pass():
    queue(2)
    call_command("send_outbox")  # tests use Django's locmem backend
    assert sorted(m.subject for m in mail.outbox) == ["S0", "S1"]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {"sent"}


def test_the_eml_file_backend_writes_one_file_per_message(tmp_path, settings):
    settings.EMAIL_BACKEND = "shopkit.outbox.backends.EmlFileBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    queue(2)
    assert outbox_deliver().sent == 2
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    assert {f.read_text().split("Subject: ")[1].splitlines()[0] for f in files} == {"S0", "S1"}


# --- configuration and rendering -----------------------------------------------------


def test_email_url_schemes():
    default = email_settings("", Path("/var/x/mail"))
    assert default == {
        "EMAIL_BACKEND": "shopkit.outbox.backends.EmlFileBackend",
        "EMAIL_FILE_PATH": "/var/x/mail",
    }
    assert email_settings("file:///srv/mail", Path("/x"))["EMAIL_FILE_PATH"] == "/srv/mail"
    assert email_settings("console://", Path("/x"))["EMAIL_BACKEND"].endswith(
        "console.EmailBackend"
    )
    tls = email_settings("smtp+tls://user%40shop:p%40ss@mail.example.com:587", Path("/x"))
    assert tls["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (tls["EMAIL_HOST"], tls["EMAIL_PORT"], tls["EMAIL_USE_TLS"]) == (
        "mail.example.com",
        587,
        True,
    )
    assert (tls["EMAIL_HOST_USER"], tls["EMAIL_HOST_PASSWORD"]) == ("user@shop", "p@ss")
    assert email_settings("smtp+ssl://mail.example.com:465", Path("/x"))["EMAIL_USE_SSL"] is True
    with pytest.raises(Exception, match="unknown scheme"):
        email_settings("pop3://mail.example.com", Path("/x"))


def test_messages_render_in_the_language_with_the_shop_name(settings):
    settings.SHOP_NAME = "La Tiendita"
    context = {"user": type("U", (), {"first_name": "Ana", "email": "a@x.es"}), "link": "L?a=1&b=2"}
    es = render_email("welcome", context, language="es")
    en = render_email("welcome", context, language="en")
    assert es.subject == "Bienvenido a La Tiendita: confirma tu correo electrónico"
    assert en.subject == "Welcome to La Tiendita: please confirm your email"
    assert "L?a=1&b=2" in es.text and "&amp;" not in es.text  # plain text is not escaped
    assert 'href="L?a=1&amp;b=2"' in en.html and 'lang="en"' in en.html
    settings.SHOP_LANGUAGE = "en"
    assert render_email("welcome", context, language="fr").language == "en"


def test_staff_override_a_template_in_email_template_dir(tmp_path, settings):
    override = tmp_path / "emails" / "es" / "welcome"
    override.mkdir(parents=True)
    (override / "subject.txt").write_text("¡Hola desde {{ shop_name }}!")
    templates = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    with override_settings(TEMPLATES=templates):
        rendered = render_email("welcome", {"user": None, "link": "L"}, language="es")
    assert rendered.subject == f"¡Hola desde {settings.SHOP_NAME}!"
    assert "L" in rendered.text  # the parts not overridden stay the shop's


def test_the_admin_lists_by_status_and_resends(admin_client, smtp):
    smtp.refuse = "550 5.1.1 no such mailbox"
    [failed] = queue()
    outbox_deliver()
    response = admin_client.get("/auth/admin/outbox/outboxmessage/?status__exact=failed")
    assert response.status_code == 200
    assert b"c0@example.com" in response.content
    smtp.refuse = None
    response = admin_client.post(
        "/auth/admin/outbox/outboxmessage/",
        {"action": "resend", "_selected_action": [failed.pk]},
    )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == OutboxStatus.PENDING
    assert outbox_deliver().sent == 1


def test_order_managers_see_the_outbox_and_only_changers_resend(client, smtp):
    from django.contrib.auth.models import Permission

    from accounts.seeding import GROUP_PERMISSIONS, ORDER_MANAGERS
    from tests.auth.factories import PASSWORD, StaffFactory

    assert {"outbox.view_outboxmessage", "outbox.change_outboxmessage"} <= set(
        GROUP_PERMISSIONS[ORDER_MANAGERS]
    )
    smtp.refuse = "550 5.1.1 no such mailbox"
    [failed] = queue()
    outbox_deliver()
    viewer = StaffFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    client.login(username=viewer.username, password=PASSWORD)
    page = client.get("/auth/admin/outbox/outboxmessage/")
    assert page.status_code == 200 and b"resend" not in page.content
    client.post(
        "/auth/admin/outbox/outboxmessage/", {"action": "resend", "_selected_action": [failed.pk]}
    )
    failed.refresh_from_db()
    assert failed.status == OutboxStatus.FAILED  # a viewer cannot resend
