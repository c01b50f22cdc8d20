"""The Stripe provider: card payments through PaymentIntents (the official `stripe` library).

Configured only when STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are set. The API answers
a payment with the intent's `client_secret`, which the storefront hands to Stripe.js; the
result arrives by webhook (`payment_intent.succeeded`, `payment_intent.payment_failed`,
`charge.refunded`), verified with the library's own `stripe.Webhook.construct_event`.
Every call that creates something carries an idempotency key, so the library's retries
and ours never create a second intent or refund.
"""

import logging
from decimal import Decimal

import stripe

from orders.models import Payment, PaymentStatus
from orders.payments.base import (
    InvalidWebhook,
    PaymentProvider,
    ProviderPayment,
    ProviderRefund,
    ProviderRefused,
    ProviderUnavailable,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

# Stripe counts these currencies in whole units, every other one in cents.
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)

# PaymentIntent statuses -> ours.
INTENT_STATUSES = {
    "requires_payment_method": PaymentStatus.REQUIRES_ACTION,
    "requires_confirmation": PaymentStatus.REQUIRES_ACTION,
    "requires_action": PaymentStatus.REQUIRES_ACTION,
    "requires_capture": PaymentStatus.PROCESSING,
    "processing": PaymentStatus.PROCESSING,
    "succeeded": PaymentStatus.SUCCEEDED,
    "canceled": PaymentStatus.CANCELLED,
}


def minor_units(amount: Decimal, currency: str) -> int:
    exponent = 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2
    return int((amount * (10**exponent)).to_integral_exact())


def from_minor_units(value: int, currency: str) -> Decimal:
    exponent = 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2
    return (Decimal(value) / (10**exponent)).quantize(Decimal(1) / (10**exponent))


class StripeProvider(PaymentProvider):
    online = True
    takes_webhooks = True

    def __init__(
        self,
        *,
        name: str,
        secret_key: str,
        webhook_secret: str,
        api_base: str = "",
        timeout: float = 10,
        webhook_tolerance: int = 300,
        **options,
    ):
        super().__init__(name=name, **options)
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.webhook_tolerance = webhook_tolerance
        # The library's module-level configuration (the one it documents): the API base
        # (only ever changed to point at a stand-in, e.g. in the tests) and the HTTP
        # client's timeout (its default is 80 s, far too long for a request thread).
        if api_base:
            stripe.api_base = api_base
        stripe.default_http_client = stripe.RequestsClient(timeout=timeout)

    def _call(self, what: str, function, *args, **kwargs):
        try:
            return function(*args, api_key=self.secret_key, **kwargs)
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            logger.warning("stripe unreachable", extra={"call": what, "reason": str(error)})
            raise ProviderUnavailable(str(error)) from error
        except (stripe.AuthenticationError, stripe.PermissionError) as error:
            logger.error("stripe refused our key", extra={"call": what, "reason": str(error)})
            raise ProviderUnavailable("The payment provider is misconfigured.") from error
        except stripe.APIError as error:
            logger.warning("stripe server error", extra={"call": what, "reason": str(error)})
            raise ProviderUnavailable(str(error)) from error
        except stripe.StripeError as error:  # invalid request, card error, ...
            raise ProviderRefused(getattr(error, "user_message", None) or str(error)) from error

    def _payment(self, intent) -> ProviderPayment:
        intent = intent.to_dict()
        return ProviderPayment(
            reference=intent["id"],
            status=INTENT_STATUSES.get(intent["status"], PaymentStatus.PROCESSING),
            amount_received=from_minor_units(
                intent.get("amount_received") or 0, intent["currency"]
            ),
            client_secret=intent.get("client_secret") or "",
        )

    def create(self, *, payment: Payment, idempotency_key: str) -> ProviderPayment:
        intent = self._call(
            "create",
            stripe.PaymentIntent.create,
            amount=minor_units(payment.amount, payment.currency),
            currency=payment.currency.lower(),
            automatic_payment_methods={"enabled": True},
            metadata={"order_number": payment.order.number, "payment_id": str(payment.pk)},
            idempotency_key=idempotency_key,
        )
        return self._payment(intent)

    def retrieve(self, *, payment: Payment) -> ProviderPayment:
        return self._payment(
            self._call("retrieve", stripe.PaymentIntent.retrieve, payment.provider_reference)
        )

    def cancel(self, *, payment: Payment) -> ProviderPayment:
        return self._payment(
            self._call("cancel", stripe.PaymentIntent.cancel, payment.provider_reference)
        )

    def refund(self, *, payment: Payment, amount: Decimal, idempotency_key: str) -> ProviderRefund:
        refund = self._call(
            "refund",
            stripe.Refund.create,
            payment_intent=payment.provider_reference,
            amount=minor_units(amount, payment.currency),
            idempotency_key=idempotency_key,
        )
        refund = refund.to_dict()
        if refund["status"] in ("failed", "canceled"):
            raise ProviderRefused(f"Stripe did not make the refund ({refund['status']}).")
        return ProviderRefund(reference=refund["id"], succeeded=refund["status"] == "succeeded")

    def parse_webhook(self, *, body: bytes, headers) -> WebhookEvent:
        try:
            event = stripe.Webhook.construct_event(
                body,
                headers.get("Stripe-Signature"),
                self.webhook_secret,
                tolerance=self.webhook_tolerance,
            )
        except stripe.SignatureVerificationError as error:
            raise InvalidWebhook(f"The Stripe-Signature does not verify: {error}") from error
        except ValueError as error:  # not JSON, or not an event
            raise InvalidWebhook("The webhook body is not a Stripe event.") from error
        payload = event.to_dict()
        try:
            obj = payload["data"]["object"]
            # The event is stored (orders_paymentevent); the customer's secret is not ours to keep.
            if isinstance(obj, dict):
                obj.pop("client_secret", None)
            event_id, event_type = str(payload["id"]), str(payload["type"])
            if event_type.startswith("payment_intent."):
                reference, amount = obj["id"], obj.get("amount_received")
            elif event_type.startswith("charge."):
                reference, amount = obj.get("payment_intent") or "", obj.get("amount_refunded")
            else:
                reference, amount = "", None
            currency = str(obj.get("currency") or "").upper()
            return WebhookEvent(
                id=event_id,
                type=event_type,
                payment_reference=str(reference),
                payload=payload,
                amount=None if amount is None else from_minor_units(int(amount), currency),
                currency=currency,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise InvalidWebhook("The webhook event is not shaped as Stripe's.") from error
