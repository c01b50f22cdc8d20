"""Payments of orders: creating them, what a succeeded one does, refunds, webhooks, expiry.

The providers (orders/payments/) only talk to their payment service; every rule is here:

- a payment is created only for an unpaid, not cancelled order, for the order's `total`
  in its `currency` (never recomputed, never from the client), once per Idempotency-Key;
- the first payment that succeeds for the full amount pays the order (`payment_status`
  paid, `paid_at`) and moves it pending -> confirmed, history by "payment" with the
  provider reference; any other one that succeeds (a second attempt, or one for an order
  cancelled meanwhile) is refunded in full, so money is never kept for nothing;
- cancelling a paid order refunds what is left of its payments through their provider;
  staff refund part of a payment, never more than was paid (`refunded_amount` counts the
  refunds asked for, under the order's row lock);
- webhooks are applied once per (provider, event id), and each effect only moves forward
  (succeeded is final, refunded amounts only grow), so duplicates and events out of order
  are harmless;
- an order paid through an online provider with no succeeded payment after
  ORDER_PAYMENT_TIMEOUT_MINUTES is cancelled by reconcile, its stock given back.

Locks: the order's row first, then the payment's, in every write (so a webhook and a
cancellation are serialised on the order and one of them sees the other's result). No
lock is held across a call to a provider: a refund is recorded as pending under the lock
and asked of the provider after the commit; reconcile retries the pending ones with the
same idempotency key.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from orders.errors import OrderErrorCode
from orders.models import (
    Order,
    OrderPaymentStatus,
    OrderStatus,
    Payment,
    PaymentEvent,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from orders.payments.base import (
    InvalidWebhook,
    PaymentProvider,
    ProviderPayment,
    ProviderRefused,
    ProviderUnavailable,
    WebhookEvent,
)
from orders.payments.registry import configured_providers, payment_provider
from orders.services.emails import order_paid_email, order_refunded_email
from orders.services.idempotency import request_fingerprint
from orders.services.status import status_change_record
from shopkit.errors import ApplicationError, ServiceUnavailable
from shopkit.routers import ECOMMERCE_DB

logger = logging.getLogger(__name__)

OPEN_PAYMENT_STATUSES = (PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING)
ZERO = Decimal("0.00")

SUCCEEDED_EVENTS = "payment_intent.succeeded"
FAILED_EVENTS = "payment_intent.payment_failed"
REFUNDED_EVENTS = "charge.refunded"


@dataclass(frozen=True)
class PaymentCreated:
    payment: Payment
    replayed: bool


def _provider_or_400(name: str) -> PaymentProvider:
    provider = payment_provider(name)
    if provider is None:
        raise ApplicationError(
            f"No payment provider named {name!r} is available here; "
            f"use one of: {', '.join(configured_providers())}.",
            code=OrderErrorCode.PAYMENT_PROVIDER_UNAVAILABLE,
            status=400,
            errors={"provider": [f"Not available: {name!r}."]},
        )
    return provider


def _provider_down(error: Exception, provider: str) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"The payment provider {provider} cannot be reached; nothing was charged, retry "
        "with the same Idempotency-Key.",
        extra={"service": provider},
        headers={"Retry-After": "5"},
    )


def _not_payable(order: Order) -> ApplicationError | None:
    if order.status == OrderStatus.CANCELLED:
        return ApplicationError(
            "A cancelled order cannot be paid.",
            code=OrderErrorCode.ORDER_NOT_PAYABLE,
            status=409,
            extra={"payment_status": order.payment_status},
        )
    if order.payment_status != OrderPaymentStatus.UNPAID:
        return ApplicationError(
            "This order is already paid.",
            code=OrderErrorCode.ORDER_NOT_PAYABLE,
            status=409,
            extra={"payment_status": order.payment_status},
        )
    return None


def payment_create(*, order: Order, provider_name: str, idempotency_key: str) -> PaymentCreated:
    """Start paying `order` through a provider, once per Idempotency-Key (checkout's rules).

    Same key and body -> the same payment again (`replayed`); same key, another body ->
    422; an order cancelled or already paid -> 409; the provider down -> 503 and the
    same key may be sent again (the provider is called with the same idempotency key,
    so it never makes a second payment).
    """
    fingerprint = request_fingerprint({"provider": provider_name})
    provider = _provider_or_400(provider_name)
    payment, replayed = _payment_claim(
        order=order, provider_name=provider_name, key=idempotency_key, fingerprint=fingerprint
    )
    if not payment.provider_reference and payment.status in OPEN_PAYMENT_STATUSES:
        # A retry after a 503: start it at the provider only while the order still
        # needs the money (it may have been cancelled or paid otherwise meanwhile).
        current = Order.objects.get(pk=order.pk)
        if replayed and _not_payable(current) is not None:
            _payment_status_move(payment=payment, status=PaymentStatus.CANCELLED)
            payment.refresh_from_db()
        else:
            payment = _payment_start(payment=payment, provider=provider)
    return PaymentCreated(payment=payment, replayed=replayed)


def _payment_claim(
    *, order: Order, provider_name: str, key: str, fingerprint: str
) -> tuple[Payment, bool]:
    for _ in range(2):
        existing = Payment.objects.filter(order_id=order.pk, idempotency_key=key).first()
        if existing is not None:
            if existing.request_fingerprint != fingerprint:
                raise ApplicationError(
                    "This Idempotency-Key was used for a different request; use a new key.",
                    code=OrderErrorCode.IDEMPOTENCY_KEY_REUSED,
                    status=422,
                )
            return existing, True
        try:
            with transaction.atomic(using=ECOMMERCE_DB):
                locked = Order.objects.select_for_update().get(pk=order.pk)
                refusal = _not_payable(locked)
                if refusal is not None:
                    raise refusal
                payment = Payment(
                    order=locked,
                    provider=provider_name,
                    amount=locked.total,  # the amount to pay is the order's, never recomputed
                    currency=locked.currency,
                    idempotency_key=key,
                    request_fingerprint=fingerprint,
                )
                payment.full_clean(exclude=["order"], validate_unique=False)
                payment.save()
                return payment, False
        except IntegrityError:
            continue  # the same key, at the same moment: read what the other request made
    raise ApplicationError("Retry the payment.", code="conflict", status=409)


def _payment_start(*, payment: Payment, provider: PaymentProvider) -> Payment:
    """Ask the provider to create the payment; store its reference and what the customer needs."""
    try:
        answer = provider.create(payment=payment, idempotency_key=f"tienda-payment-{payment.pk}")
    except ProviderUnavailable as error:
        raise _provider_down(error, provider.name) from error
    except ProviderRefused as error:
        logger.warning("payment refused", extra={"payment_id": payment.pk, "reason": str(error)})
        Payment.objects.filter(pk=payment.pk, status__in=OPEN_PAYMENT_STATUSES).update(
            status=PaymentStatus.FAILED, updated_at=timezone.now()
        )
        return Payment.objects.get(pk=payment.pk)
    Payment.objects.filter(pk=payment.pk, provider_reference="").update(
        provider_reference=answer.reference,
        client_secret=answer.client_secret,
        instructions=answer.instructions,
        updated_at=timezone.now(),
    )
    payment.refresh_from_db()
    if answer.status == PaymentStatus.SUCCEEDED:
        payment_succeeded(payment=payment, amount_received=answer.amount_received)
    elif answer.status != payment.status:
        _payment_status_move(payment=payment, status=answer.status)
    payment.refresh_from_db()
    return payment


def _payment_status_move(*, payment: Payment, status: str) -> None:
    """An open payment becomes processing, failed or cancelled (never out of succeeded)."""
    Payment.objects.filter(pk=payment.pk, status__in=OPEN_PAYMENT_STATUSES).update(
        status=status, updated_at=timezone.now()
    )


# --- a payment succeeds -------------------------------------------------------------------


def _order_payment_status(payment: Payment) -> str:
    if payment.refunded_amount <= 0:
        return OrderPaymentStatus.PAID
    if payment.refunded_amount < payment.amount:
        return OrderPaymentStatus.PARTIALLY_REFUNDED
    return OrderPaymentStatus.REFUNDED


def _refund_record(
    *, payment: Payment, amount: Decimal, reason: str, by_user_id: int | None
) -> Refund:
    """Under the order's and payment's locks: count the refund now, ask the provider later."""
    refund = Refund(payment=payment, amount=amount, reason=reason, by_user_id=by_user_id)
    refund.full_clean(exclude=["payment"])
    refund.save()
    payment.refunded_amount += amount
    payment.save(update_fields=["refunded_amount", "updated_at"])
    # Told when issued: a provider's later refusal is rare and staff see it (admin).
    order_refunded_email(order=Order.objects.get(pk=payment.order_id), refund=refund)
    return refund


def _order_refresh_payment_status(order: Order, payment: Payment) -> None:
    if payment.pays_order:
        order.payment_status = _order_payment_status(payment)
        order.save(update_fields=["payment_status", "updated_at"])


def _succeeded_locked(
    *,
    payment: Payment,
    amount_received: Decimal | None,
    by_user_id: int | None,
    by_email: str,
    refuse_unpayable: bool = False,
) -> Refund | None:
    """Inside a transaction: the payment succeeded. Returns the refund to ask for, if any.

    Pays the order (and confirms a pending one) when it is the first full payment of an
    unpaid, not cancelled order; otherwise the payment is refunded in full (or, with
    `refuse_unpayable`, nothing happens and the refusal is raised).
    """
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    if locked.status == PaymentStatus.SUCCEEDED:
        return None
    if refuse_unpayable and (refusal := _not_payable(order)) is not None:
        raise refusal
    now = timezone.now()
    pays = (
        (amount_received is None or amount_received == locked.amount)
        and _not_payable(order) is None
        and locked.amount == order.total
        and locked.currency == order.currency
    )
    locked.status, locked.succeeded_at, locked.pays_order = PaymentStatus.SUCCEEDED, now, pays
    locked.save(update_fields=["status", "succeeded_at", "pays_order", "updated_at"])
    if pays:
        _order_paid(order=order, payment=locked, at=now, by_user_id=by_user_id, by_email=by_email)
        return None
    logger.warning("payment not applied to its order", extra={"payment_id": locked.pk})
    return _refund_record(
        payment=locked, amount=locked.amount, reason=_unapplied_reason(order), by_user_id=None
    )


def payment_succeeded(
    *,
    payment: Payment,
    amount_received: Decimal | None,
    by_user_id: int | None = None,
    by_email: str = "",
    refuse_unpayable: bool = False,
) -> Payment:
    """The provider (or staff) say the money arrived. Idempotent: succeeded is final."""
    with transaction.atomic(using=ECOMMERCE_DB):
        refund = _succeeded_locked(
            payment=payment,
            amount_received=amount_received,
            by_user_id=by_user_id,
            by_email=by_email,
            refuse_unpayable=refuse_unpayable,
        )
    if refund is not None:
        refund_execute(refund=refund)
    return Payment.objects.get(pk=payment.pk)


def payment_mark_received(*, payment: Payment, by_user_id: int, by_email: str = "") -> Payment:
    """Staff say the money of a manual payment arrived (admin action or API)."""
    provider = payment_provider(payment.provider)
    order = payment.order
    refusal = _not_payable(order)
    if refusal is not None:
        raise refusal
    if payment.status not in OPEN_PAYMENT_STATUSES or not payment.provider_reference:
        raise ApplicationError(
            f"This payment is {payment.status}; only a payment waiting for the money can be "
            "marked received.",
            code=OrderErrorCode.PAYMENT_NOT_RECEIVABLE,
            status=409,
        )
    if provider is None or provider.online:
        raise ApplicationError(
            f"A {payment.provider} payment is confirmed by its provider, not by staff.",
            code=OrderErrorCode.PAYMENT_NOT_RECEIVABLE,
            status=409,
        )
    try:
        answer = provider.capture(payment=payment)
    except ProviderUnavailable as error:
        raise _provider_down(error, provider.name) from error
    except ProviderRefused as error:
        raise ApplicationError(
            str(error), code=OrderErrorCode.PAYMENT_NOT_RECEIVABLE, status=409
        ) from error
    # The order may have been paid or cancelled since the checks above: then a 409 and
    # nothing changes (staff were told, not the money kept).
    return payment_succeeded(
        payment=payment,
        amount_received=answer.amount_received,
        by_user_id=by_user_id,
        by_email=by_email,
        refuse_unpayable=True,
    )


# --- refunds -------------------------------------------------------------------------------


def payment_refund(
    *, payment: Payment, amount: Decimal, by_user_id: int | None, reason: str = ""
) -> Refund:
    """Staff give back part (or all) of a succeeded payment; never more than is left."""
    with transaction.atomic(using=ECOMMERCE_DB):
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != PaymentStatus.SUCCEEDED:
            raise ApplicationError(
                f"Only a succeeded payment can be refunded; this one is {locked.status}.",
                code=OrderErrorCode.PAYMENT_NOT_REFUNDABLE,
                status=409,
            )
        refundable = locked.amount - locked.refunded_amount
        if amount > refundable:
            raise ApplicationError(
                f"At most {refundable} {locked.currency} of this payment can still be refunded.",
                code=OrderErrorCode.REFUND_EXCEEDS_PAID,
                status=409,
                extra={"refundable": format(refundable, "f")},
            )
        refund = _refund_record(
            payment=locked,
            amount=amount,
            reason=reason or "Refunded by staff.",
            by_user_id=by_user_id,
        )
        _order_refresh_payment_status(order, locked)
    return refund_execute(refund=refund)


def order_payments_refund_all(*, order: Order, reason: str) -> list[Refund]:
    """A cancelled order: refund what is left of every succeeded payment, stop open ones.

    Called after the cancellation committed, and by reconcile for what is still owed.
    """
    refunds = []
    with transaction.atomic(using=ECOMMERCE_DB):
        locked_order = Order.objects.select_for_update().get(pk=order.pk)
        payments = Payment.objects.select_for_update().filter(
            order_id=order.pk, status=PaymentStatus.SUCCEEDED, refunded_amount__lt=F("amount")
        )
        for payment in payments.order_by("pk"):
            refunds.append(
                _refund_record(
                    payment=payment,
                    amount=payment.amount - payment.refunded_amount,
                    reason=reason,
                    by_user_id=None,
                )
            )
            _order_refresh_payment_status(locked_order, payment)
    open_payments = Payment.objects.filter(
        order_id=order.pk, status__in=OPEN_PAYMENT_STATUSES
    ).exclude(provider_reference="")
    for payment in open_payments:
        _payment_stop(payment)
    return [refund_execute(refund=refund) for refund in refunds]


def _payment_stop(payment: Payment) -> None:
    """Cancel an open payment at its provider (quietly: a webhook or reconcile settles it)."""
    provider = payment_provider(payment.provider)
    if provider is None:
        return
    try:
        answer = provider.cancel(payment=payment)
    except (ProviderUnavailable, ProviderRefused) as error:
        logger.warning(
            "payment not cancelled", extra={"payment_id": payment.pk, "reason": str(error)}
        )
        return
    if answer.status == PaymentStatus.SUCCEEDED:  # paid just before: refunded, order cancelled
        payment_succeeded(payment=payment, amount_received=answer.amount_received)
    else:
        _payment_status_move(payment=payment, status=PaymentStatus.CANCELLED)


def refund_execute(*, refund: Refund) -> Refund:
    """Ask the provider for a pending refund (same idempotency key every time).

    Unreachable: it stays pending and reconcile asks again. Refused: it fails, and its
    amount is no longer counted on the payment. Accepted but still pending on the
    provider's side: it keeps the provider's reference, and the provider's
    `charge.refunded` webhook marks it succeeded.
    """
    payment = refund.payment
    provider = payment_provider(payment.provider)
    if provider is None or refund.status != RefundStatus.PENDING:
        return refund
    try:
        answer = provider.refund(
            payment=payment, amount=refund.amount, idempotency_key=f"tienda-refund-{refund.pk}"
        )
    except ProviderUnavailable:
        logger.warning("refund left for later", extra={"refund_id": refund.pk})
        return refund
    except ProviderRefused as error:
        logger.error("refund refused", extra={"refund_id": refund.pk, "reason": str(error)})
        with transaction.atomic(using=ECOMMERCE_DB):
            order = Order.objects.select_for_update().get(pk=payment.order_id)
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            if Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
                status=RefundStatus.FAILED, updated_at=timezone.now()
            ):
                locked.refunded_amount -= refund.amount
                locked.save(update_fields=["refunded_amount", "updated_at"])
                _order_refresh_payment_status(order, locked)
        refund.refresh_from_db()
        return refund
    Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
        provider_reference=answer.reference,
        status=RefundStatus.SUCCEEDED if answer.succeeded else RefundStatus.PENDING,
        updated_at=timezone.now(),
    )
    refund.refresh_from_db()
    return refund


# --- webhooks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookOutcome:
    event_id: str
    duplicate: bool


def payment_webhook_receive(*, provider_name: str, body: bytes, headers) -> WebhookOutcome:
    """Verify a provider's webhook and apply it once (per provider and event id).

    400 webhook_invalid and nothing changed when it does not verify (forged, stale,
    unreadable). A duplicate answers 200 and changes nothing.
    """
    provider = payment_provider(provider_name)
    if provider is None:
        from django.http import Http404

        raise Http404("No such payment provider.")
    try:
        event = provider.parse_webhook(body=body, headers=headers)
    except InvalidWebhook as error:
        raise ApplicationError(
            str(error), code=OrderErrorCode.WEBHOOK_INVALID, status=400
        ) from error
    payment = _event_payment(provider_name, event)
    refunds: list[Refund] = []
    try:
        with transaction.atomic(using=ECOMMERCE_DB):
            # The order's row lock first, as in every payment write: deliveries of one event
            # (and of any event of the order) queue here, and each finds what the one
            # before it stored. (Concurrent inserts of one unique key would deadlock.)
            if payment is not None:
                list(Order.objects.select_for_update().filter(pk=payment.order_id).values("pk"))
            if PaymentEvent.objects.filter(provider=provider_name, event_id=event.id).exists():
                return WebhookOutcome(event_id=event.id, duplicate=True)
            PaymentEvent.objects.create(
                provider=provider_name,
                event_id=event.id,
                type=event.type[:64],
                payment=payment,
                payload=event.payload,
            )
            if payment is not None:
                refunds = _event_apply(event=event, payment=payment)
    except IntegrityError:
        if PaymentEvent.objects.filter(provider=provider_name, event_id=event.id).exists():
            return WebhookOutcome(event_id=event.id, duplicate=True)
        raise
    for refund in refunds:
        refund_execute(refund=refund)
    return WebhookOutcome(event_id=event.id, duplicate=False)


def _event_payment(provider_name: str, event: WebhookEvent) -> Payment | None:
    if not event.payment_reference:
        return None
    payment = Payment.objects.filter(
        provider=provider_name, provider_reference=event.payment_reference
    ).first()
    if payment is None:
        # The event came before the provider's answer to our create was stored: the
        # intent carries our payment id in its metadata.
        metadata = (event.payload.get("data", {}).get("object", {}) or {}).get("metadata") or {}
        payment_id = str(metadata.get("payment_id", ""))
        if payment_id.isdigit():
            payment = Payment.objects.filter(
                pk=int(payment_id), provider=provider_name, provider_reference=""
            ).first()
            if payment is not None:
                Payment.objects.filter(pk=payment.pk, provider_reference="").update(
                    provider_reference=event.payment_reference
                )
                payment.provider_reference = event.payment_reference
    return payment


def _event_apply(*, event: WebhookEvent, payment: Payment) -> list[Refund]:
    """Inside the event's transaction. Returns the refunds to ask for after the commit."""
    if event.type == SUCCEEDED_EVENTS:
        amount = event.amount
        if event.currency and event.currency != payment.currency:
            amount = Decimal("-1")  # another currency is never the order's full amount
        refund = _succeeded_locked(
            payment=payment, amount_received=amount, by_user_id=None, by_email=""
        )
        return [refund] if refund is not None else []
    if event.type == FAILED_EVENTS:
        Order.objects.select_for_update().filter(pk=payment.order_id).first()
        _payment_status_move(payment=payment, status=PaymentStatus.FAILED)
        return []
    if event.type == REFUNDED_EVENTS and event.amount is not None:
        return _refunded_at_provider(payment=payment, refunded_total=event.amount, event=event)
    return []


def _unapplied_reason(order: Order) -> str:
    if order.status == OrderStatus.CANCELLED:
        return "Refunded in full: the order was cancelled before the payment succeeded."
    return "Refunded in full: the order was already paid, or the amount was not its total."


def _order_paid(*, order: Order, payment: Payment, at, by_user_id: int | None, by_email: str):
    order.payment_status = OrderPaymentStatus.PAID
    order.paid_at = at
    order.save(update_fields=["payment_status", "paid_at", "updated_at"])
    order_paid_email(order=order)
    if order.status == OrderStatus.PENDING:
        order.status = OrderStatus.CONFIRMED
        order.save(update_fields=["status", "updated_at"])
        status_change_record(
            order=order,
            from_status=OrderStatus.PENDING,
            to_status=OrderStatus.CONFIRMED,
            by_user_id=by_user_id,
            by_email=by_email,
            note=f"payment: {payment.provider} {payment.provider_reference} succeeded "
            f"({payment.amount} {payment.currency}).",
        )


def _refunded_at_provider(
    *, payment: Payment, refunded_total: Decimal, event: WebhookEvent
) -> list[Refund]:
    """charge.refunded: the provider's cumulative refunded amount. Ours only grows to it.

    A refund implies the charge succeeded: when this event overtakes the payment's
    `payment_intent.succeeded`, the payment succeeds here first (the later event then
    changes nothing), so the order ends the same whatever the order of arrival.
    """
    refunds = []
    succeeded_first = _succeeded_locked(
        payment=payment, amount_received=None, by_user_id=None, by_email=""
    )
    if succeeded_first is not None:  # not applicable to its order: refunded in full by us
        refunds.append(succeeded_first)
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    locked = Payment.objects.select_for_update().get(pk=payment.pk)
    refunded_total = min(refunded_total, locked.amount)
    # Our own refunds the provider has made (they have its reference) are done now.
    Refund.objects.filter(payment=locked, status=RefundStatus.PENDING).exclude(
        provider_reference=""
    ).update(status=RefundStatus.SUCCEEDED, updated_at=timezone.now())
    if refunded_total > locked.refunded_amount:
        refund = _refund_record(
            payment=locked,
            amount=refunded_total - locked.refunded_amount,
            reason="Refunded at the provider.",
            by_user_id=None,
        )
        Refund.objects.filter(pk=refund.pk).update(
            status=RefundStatus.SUCCEEDED, provider_reference=event.id
        )
        _order_refresh_payment_status(order, locked)
    return refunds


# --- expiry (reconcile) --------------------------------------------------------------------


@dataclass
class PaymentsReconcileReport:
    orders_expired: int = 0
    payments_settled: int = 0
    refunds_made: int = 0
    refunds_owed: int = 0


def payments_reconcile() -> PaymentsReconcileReport:
    """What reconcile does for payments: expire unpaid online orders, ask pending refunds
    again, refund what cancelled orders still hold."""
    report = PaymentsReconcileReport()
    _expire_unpaid_orders(report)
    owing = Order.objects.filter(
        status=OrderStatus.CANCELLED,
        payments__status=PaymentStatus.SUCCEEDED,
        payments__refunded_amount__lt=F("payments__amount"),
    ).distinct()
    for order in owing:
        for refund in order_payments_refund_all(
            order=order, reason="Refunded in full: the order was cancelled."
        ):
            report.refunds_made += refund.status == RefundStatus.SUCCEEDED
            report.refunds_owed += refund.status == RefundStatus.PENDING
    pending = Refund.objects.filter(status=RefundStatus.PENDING, provider_reference="")
    for refund in pending.select_related("payment"):
        if refund_execute(refund=refund).status == RefundStatus.SUCCEEDED:
            report.refunds_made += 1
        else:
            report.refunds_owed += 1
    return report


def orders_awaiting_online_payment():
    """Pending, unpaid orders placed over ORDER_PAYMENT_TIMEOUT_MINUTES ago that chose an
    online provider."""
    online = [name for name, provider in configured_providers().items() if provider.online]
    cutoff = timezone.now() - timedelta(minutes=settings.ORDER_PAYMENT_TIMEOUT_MINUTES)
    return Order.objects.filter(
        Q(status=OrderStatus.PENDING)
        & Q(payment_status=OrderPaymentStatus.UNPAID)
        & Q(created_at__lt=cutoff)
        & Q(payments__provider__in=online)
    ).distinct()


def _expire_unpaid_orders(report: PaymentsReconcileReport) -> None:
    from orders.services.status import order_cancel

    for order in orders_awaiting_online_payment():
        # A webhook may have been lost: ask the provider before giving up on the order.
        settled, unknown = _payments_check(order)
        report.payments_settled += settled
        order.refresh_from_db()
        if unknown or order.payment_status != OrderPaymentStatus.UNPAID:
            continue
        for payment in order.payments.filter(status__in=OPEN_PAYMENT_STATUSES).exclude(
            provider_reference=""
        ):
            _payment_stop(payment)
        try:
            order_cancel(
                order=order,
                by_user_id=None,
                by_staff=True,
                only_if_unpaid=True,
                note=f"Cancelled by the system: not paid within "
                f"{settings.ORDER_PAYMENT_TIMEOUT_MINUTES} minutes.",
            )
            report.orders_expired += 1
        except ApplicationError as error:  # paid or moved meanwhile
            logger.info(
                "unpaid order not expired", extra={"number": order.number, "reason": str(error)}
            )


def _payments_check(order: Order) -> tuple[int, bool]:
    settled, unknown = 0, False
    for payment in order.payments.filter(status__in=OPEN_PAYMENT_STATUSES).exclude(
        provider_reference=""
    ):
        provider = payment_provider(payment.provider)
        if provider is None or not provider.online:
            continue
        try:
            answer: ProviderPayment = provider.retrieve(payment=payment)
        except (ProviderUnavailable, ProviderRefused):
            unknown = True
            continue
        if answer.status == PaymentStatus.SUCCEEDED:
            payment_succeeded(payment=payment, amount_received=answer.amount_received)
            settled += 1
        elif answer.status in (PaymentStatus.PROCESSING,):
            unknown = True  # money on its way: wait for it
    return settled, unknown
