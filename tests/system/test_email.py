"""Email from outside: a real SMTP server on loopback (aiosmtpd), auth's mail sender as
real processes (`manage.py send_outbox --loop 1`), and the API through the gateway.

What must arrive, to whom, with what subject, in which language; links that work end to
end; no enumeration through password reset; a server that is down delays mail and loses
none; two senders at once send every message once.
"""

import re
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from shopkit.processes import Process, manage_argv, project_dir
from tests.support.smtp_sink import SmtpSink
from tests.system.shopping import sign_in

PASSWORD = "a-Long-unusual-passphrase-42"
NEW_PASSWORD = "Another-Quiet-Harbour-77"
AUTH = "/api/v1/auth"


@pytest.fixture(scope="module")
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


def sender_process(shop, smtp, name: str) -> Process:
    env = {
        **shop.env,
        "EMAIL_URL": smtp.url,
        "DEFAULT_FROM_EMAIL": "Tienda <shop@tienda.test>",
        "OUTBOX_RETRY_BASE_SECONDS": "1",
        "OUTBOX_RETRY_MAX_SECONDS": "2",
    }
    return Process(
        name,
        manage_argv("send_outbox", "--loop", "1", "--limit", "5"),
        cwd=project_dir("auth"),
        env=env,
        log=shop.log_dir / f"{name}.log",
    )


@pytest.fixture(scope="module")
def sender(shop, smtp):
    process = sender_process(shop, smtp, "mail-sender").start()
    yield process
    process.stop()


def link_of(message) -> dict:
    [url] = re.findall(r"https?://\S+", message.text.split("\n--\n")[0])
    query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    return {"path": urlsplit(url).path, **query}


def register(gateway, email: str, **extra):
    response = requests.post(
        f"{gateway.url}{AUTH}/register/",
        json={"email": email, "password": PASSWORD, "first_name": "Ana", **extra},
        timeout=30,
    )
    assert response.status_code == 201, response.text


def test_sign_up_emails_a_verification_link_that_works(gateway, sender, smtp):
    email = f"verify-{uuid.uuid4().hex[:8]}@example.com"
    register(gateway, email, language="en")
    [message] = smtp.wait_for(lambda _: smtp.to(email), timeout=30) and smtp.to(email)
    assert message.recipients == [email]
    assert message.mail_from == "shop@tienda.test"
    assert message.subject == "Welcome to Tienda: please confirm your email"
    assert "Hello Ana" in message.text and "Confirm my email" in message.html
    link = link_of(message)
    assert link["path"] == "/verify-email"

    customer = sign_in(gateway.url, email, PASSWORD)
    me = customer.get(f"{AUTH}/me/", expect=200).json()
    assert (me["email_verified"], me["language"]) == (False, "en")
    verified = requests.post(
        f"{gateway.url}{AUTH}/email/verify/",
        json={"uid": link["uid"], "token": link["token"]},
        timeout=10,
    )
    assert verified.status_code == 204, verified.text
    assert customer.get(f"{AUTH}/me/", expect=200).json()["email_verified"] is True
    again = requests.post(
        f"{gateway.url}{AUTH}/email/verify/",
        json={"uid": link["uid"], "token": link["token"]},
        timeout=10,
    )
    assert again.status_code == 400 and again.json()["code"] == "verification_link_invalid"


def test_a_forgotten_password_is_reset_through_the_emailed_link_without_enumeration(
    gateway, sender, smtp, shop
):
    email = f"reset-{uuid.uuid4().hex[:8]}@example.com"
    register(gateway, email)  # Spanish: the shop's language
    smtp.wait_for(lambda _: smtp.to(email))
    nobody = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    # Signed in elsewhere before forgetting (a sign-in after the request would void the
    # link: Django's reset token hashes last_login).
    refresh = requests.post(
        f"{gateway.url}{AUTH}/token/", json={"email": email, "password": PASSWORD}, timeout=10
    ).json()["refresh"]

    known = requests.post(f"{gateway.url}{AUTH}/password/reset/", json={"email": email}, timeout=10)
    unknown = requests.post(
        f"{gateway.url}{AUTH}/password/reset/", json={"email": nobody}, timeout=10
    )
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert known.headers["Content-Type"] == unknown.headers["Content-Type"]

    smtp.wait_for(lambda _: len(smtp.to(email)) == 2)
    [message] = [m for m in smtp.to(email) if "contraseña" in m.subject]
    assert message.subject == "Tienda: restablece tu contraseña"
    assert "60 minutos" in message.text
    link = link_of(message)
    assert link["path"] == "/password-reset"

    body = {"uid": link["uid"], "token": link["token"], "new_password": NEW_PASSWORD}
    confirmed = requests.post(f"{gateway.url}{AUTH}/password/reset/confirm/", json=body, timeout=10)
    assert confirmed.status_code == 204, confirmed.text
    assert sign_in(gateway.url, email, NEW_PASSWORD)
    old = requests.post(
        f"{gateway.url}{AUTH}/token/", json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert old.status_code == 401
    revoked = requests.post(
        f"{gateway.url}{AUTH}/token/refresh/", json={"refresh": refresh}, timeout=10
    )
    assert revoked.status_code == 401  # every refresh token of the user was revoked
    second = requests.post(
        f"{gateway.url}{AUTH}/password/reset/confirm/",
        json={**body, "new_password": "Yet-Another-Harbour-88"},
        timeout=10,
    )
    assert second.status_code == 400 and second.json()["code"] == "reset_link_invalid"

    time.sleep(2)  # the sender had time to send anything else
    assert smtp.to(nobody) == []
    assert len(smtp.to(email)) == 2  # the welcome and the one reset, once each
    rows = shop.query(
        "auth", "SELECT COUNT(*) FROM outbox_outboxmessage WHERE recipients LIKE %s", f"%{nobody}%"
    )
    assert rows == [(0,)]


def test_an_smtp_server_that_is_down_delays_mail_and_loses_none(
    gateway,
    sender,
    smtp,
    shop,
    seeded_staff,  # seeded_staff: customer1..3@example.com exist
):
    customers = [f"customer{n}@example.com" for n in (1, 2, 3)]
    before = {address: len(smtp.to(address)) for address in customers}
    smtp.stop()
    try:
        for address in customers:
            response = requests.post(
                f"{gateway.url}{AUTH}/password/reset/", json={"email": address}, timeout=10
            )
            assert response.status_code == 202  # the request never waits for the server
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the sender tried, failed, and will retry
            waiting = shop.query(
                "auth",
                "SELECT status, attempts FROM outbox_outboxmessage "
                "WHERE kind = 'accounts.password_reset' AND status <> 'sent'",
            )
            if len(waiting) == 3 and all(attempts >= 1 for _, attempts in waiting):
                break
            time.sleep(0.5)
        assert {status for status, _ in waiting} <= {"pending", "claimed"}, waiting
        assert len(waiting) == 3 and all(attempts >= 1 for _, attempts in waiting), waiting
    finally:
        smtp.start()
    smtp.wait_for(lambda _: all(len(smtp.to(a)) == before[a] + 1 for a in customers), timeout=60)
    time.sleep(3)
    assert {a: len(smtp.to(a)) - before[a] for a in customers} == dict.fromkeys(customers, 1)
    assert shop.query(
        "auth",
        "SELECT COUNT(*) FROM outbox_outboxmessage "
        "WHERE kind = 'accounts.password_reset' AND status <> 'sent'",
    ) == [(0,)]


ENQUEUE = """
from django.db import transaction
from shopkit.outbox.rendering import RenderedEmail
from shopkit.outbox.services import enqueue
with transaction.atomic():
    for n in range({count}):
        enqueue(kind="test.bulk", to=f"bulk{{n}}-{tag}@example.com",
                email=RenderedEmail(subject=f"bulk {{n}}", text="x", html="", language="es"))
"""


def test_two_senders_at_once_send_every_message_exactly_once(shop, sender, smtp):
    second = sender_process(shop, smtp, "mail-sender-2").start()
    smtp.delay = 0.05  # a slow server: both senders are busy at once
    tag = uuid.uuid4().hex[:8]
    try:
        shop.manage("auth", "shell", "-c", ENQUEUE.format(count=40, tag=tag))
        smtp.wait_for(
            lambda messages: sum(tag in m.recipients[0] for m in messages) >= 40, timeout=60
        )
        time.sleep(3)
    finally:
        smtp.delay = 0.0
        second.stop()
    received = [m.recipients[0] for m in smtp.messages() if tag in m.recipients[0]]
    assert sorted(received) == sorted(f"bulk{n}-{tag}@example.com" for n in range(40))
    rows = shop.query(
        "auth",
        "SELECT status, attempts, claimed_by FROM outbox_outboxmessage WHERE kind = 'test.bulk'",
    )
    assert {(status, attempts) for status, attempts, _ in rows} == {("sent", 1)}
    assert len({claimed_by for _, _, claimed_by in rows}) == 2  # both senders took a share
