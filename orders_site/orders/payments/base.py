"""The interface every payment provider implements, and what it answers."""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal

from orders.models import Payment, PaymentStatus


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered with a server error: nothing is known
    to have happened, and the same call (same idempotency key) may be made again."""


class ProviderRefused(Exception):
    """The provider answered and said no (a refund it will not make, a capture that does
    not apply): making the same call again will not help."""


class OperationNotSupported(ProviderRefused):
    """The provider has no such operation (capture for a provider that captures itself)."""


class InvalidWebhook(Exception):
    """A webhook whose signature does not verify, is too old, or cannot be read."""


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as the provider sees it."""

    reference: str
    status: str  # a PaymentStatus value
    amount_received: Decimal | None = None  # what the provider says was received, if it says
    client_secret: str = ""
    instructions: str = ""


@dataclass(frozen=True)
class ProviderRefund:
    reference: str
    succeeded: bool  # False: accepted by the provider but still pending on its side


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook event, reduced to what the payment rules need."""

    id: str
    type: str
    payment_reference: str  # the provider reference of the payment it is about ("" if none)
    payload: dict
    # payment_intent.succeeded: the amount received; charge.refunded: the amount refunded
    # so far (cumulative, so events that arrive out of order cannot make it go down).
    amount: Decimal | None = None
    currency: str = ""


class PaymentProvider(ABC):
    """One payment service. Instances are built from a PAYMENT_PROVIDERS entry's options.

    `online`: the customer pays on their own (a card form); an unpaid order with such a
    payment expires after ORDER_PAYMENT_TIMEOUT_MINUTES. An offline provider (manual)
    waits for staff.
    """

    name: str = ""
    online: bool = False
    # True: the provider posts events to /api/v1/orders/payments/webhooks/<name>/.
    takes_webhooks: bool = False

    def __init__(self, *, name: str, **options):
        self.name = name

    @abstractmethod
    def create(self, *, payment: Payment, idempotency_key: str) -> ProviderPayment:
        """Start collecting `payment.amount` in `payment.currency`. Calls with the same
        idempotency key must not create a second payment at the provider."""

    def capture(self, *, payment: Payment) -> ProviderPayment:
        """Take the money of a payment that waits for it (manual: staff received it)."""
        raise OperationNotSupported(f"The {self.name} provider has no capture step.")

    def retrieve(self, *, payment: Payment) -> ProviderPayment:
        """The payment as the provider sees it now (a webhook may have been lost)."""
        return ProviderPayment(reference=payment.provider_reference, status=payment.status)

    def cancel(self, *, payment: Payment) -> ProviderPayment:
        """Stop a payment that has not succeeded (the order expired or was cancelled)."""
        return ProviderPayment(reference=payment.provider_reference, status=PaymentStatus.CANCELLED)

    @abstractmethod
    def refund(self, *, payment: Payment, amount: Decimal, idempotency_key: str) -> ProviderRefund:
        """Give `amount` of a succeeded payment back; same idempotency key, one refund."""

    def parse_webhook(self, *, body: bytes, headers) -> WebhookEvent:
        """Verify and read a webhook delivery; raise InvalidWebhook when it does not verify."""
        raise InvalidWebhook(f"The {self.name} provider takes no webhooks.")
