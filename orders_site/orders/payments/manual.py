"""The manual provider: bank transfer or cash on delivery, confirmed by staff.

Always configured. Creating a payment answers with instructions; staff mark it received
(`capture`, the admin's action or POST .../received/); a refund is money staff give
back by hand, recorded here as done.
"""

from decimal import Decimal

from orders.models import Payment, PaymentStatus
from orders.payments.base import PaymentProvider, ProviderPayment, ProviderRefund

DEFAULT_INSTRUCTIONS = (
    "Pay {amount} {currency} by bank transfer with the reference {number}, or in cash on "
    "delivery. The order is confirmed once the money is received."
)


class ManualProvider(PaymentProvider):
    online = False

    def __init__(self, *, name: str, instructions: str = DEFAULT_INSTRUCTIONS, **options):
        super().__init__(name=name, **options)
        self.instructions = instructions

    def create(self, *, payment: Payment, idempotency_key: str) -> ProviderPayment:
        return ProviderPayment(
            # The order number is what the customer writes on the transfer.
            reference=f"manual-{payment.order.number}-{payment.pk}",
            status=PaymentStatus.REQUIRES_ACTION,
            instructions=self.instructions.format(
                amount=payment.amount, currency=payment.currency, number=payment.order.number
            ),
        )

    def capture(self, *, payment: Payment) -> ProviderPayment:
        return ProviderPayment(
            reference=payment.provider_reference,
            status=PaymentStatus.SUCCEEDED,
            amount_received=payment.amount,
        )

    def refund(self, *, payment: Payment, amount: Decimal, idempotency_key: str) -> ProviderRefund:
        return ProviderRefund(reference=f"manual-refund-{idempotency_key}", succeeded=True)
