"""The payments API: /api/v1/orders/{id}/payments/... and the providers' webhooks.

Views parse input, call one service (orders/services/payments.py) and shape output.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import selectors
from orders.apis import (
    IDEMPOTENT_REPLAYED,
    CanChangeOrders,
    _caller_id,
    _idempotency_key,
)
from orders.payment_serializers import (
    PaymentCreateSerializer,
    PaymentSerializer,
    RefundCreateSerializer,
    WebhookAnswerSerializer,
)
from orders.services import payments as payment_services
from shopkit.schema import problem_responses

PAYMENT_IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": r"^[\x21-\x7e][\x20-\x7e]{0,254}$",
    },
    OpenApiParameter.HEADER,
    required=True,
    description="One key per payment (1-255 printable ASCII characters, e.g. a UUID). "
    "Sending the same key and body again returns the same payment.",
)


def _order_for(request, order_id: str):
    return selectors.order_get(user=request.user, order_id=int(order_id))


def _shown_to(request, order) -> dict:
    return {"show_client_secret": order.user_id == _caller_id(request)}


class PaymentListCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="orders_payments_list",
        summary="An order's payments",
        description="The owner's, or any order's for staff with orders.view_order.",
        responses={200: PaymentSerializer(many=True), **problem_responses(401, 404)},
    )
    def get(self, request, order_id):
        order = _order_for(request, order_id)
        payments = selectors.payment_list(order=order)
        return Response(
            PaymentSerializer(payments, many=True, context=_shown_to(request, order)).data
        )

    @extend_schema(
        operation_id="orders_payments_create",
        summary="Pay an order",
        description="The owner starts a payment of the order's total through a provider: "
        "`manual` answers with instructions (staff mark it received), `stripe` with the "
        "`client_secret` for Stripe.js (the result arrives by webhook). Only for an unpaid, "
        "not cancelled order (409 order_not_payable). Exactly once per Idempotency-Key, as "
        "for a checkout: same key and body -> the same payment (Idempotent-Replayed: true), "
        "another body -> 422; 503 when the provider cannot be reached (retry the same key).",
        parameters=[PAYMENT_IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        request=PaymentCreateSerializer,
        responses={201: PaymentSerializer, **problem_responses(400, 401, 403, 404, 409, 422, 503)},
    )
    def post(self, request, order_id):
        key = _idempotency_key(request)
        body = PaymentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = _order_for(request, order_id)
        if order.user_id != _caller_id(request):
            self.permission_denied(request, message="Only the customer pays their order.")
        created = payment_services.payment_create(
            order=order, provider_name=body.validated_data["provider"], idempotency_key=key
        )
        return Response(
            PaymentSerializer(created.payment, context=_shown_to(request, order)).data,
            status=201,
            headers={"Idempotent-Replayed": "true"} if created.replayed else None,
        )


class PaymentReceivedView(APIView):
    permission_classes = [IsAuthenticated, CanChangeOrders]

    @extend_schema(
        operation_id="orders_payments_received",
        summary="Mark a manual payment received (staff)",
        description="Order managers (orders.change_order) record that the money of a manual "
        "payment arrived: the payment succeeds, the order is paid and a pending one "
        "confirmed. 409 for a payment of another provider, one not waiting for money, or an "
        "order already paid or cancelled.",
        request=None,
        responses={200: PaymentSerializer, **problem_responses(401, 403, 404, 409)},
    )
    def post(self, request, order_id, payment_id):
        payment = selectors.payment_get(
            order=_order_for(request, order_id), payment_id=int(payment_id)
        )
        payment = payment_services.payment_mark_received(
            payment=payment, by_user_id=_caller_id(request), by_email=request.user.email
        )
        return Response(PaymentSerializer(payment).data)


class PaymentRefundView(APIView):
    permission_classes = [IsAuthenticated, CanChangeOrders]

    @extend_schema(
        operation_id="orders_payments_refund",
        summary="Refund part or all of a payment (staff)",
        description="Order managers give back an amount of a succeeded payment through its "
        "provider; never more than is left (409 refund_exceeds_paid, with `refundable`). "
        "The order's payment_status becomes partially_refunded or refunded.",
        request=RefundCreateSerializer,
        responses={201: PaymentSerializer, **problem_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, order_id, payment_id):
        body = RefundCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        payment = selectors.payment_get(
            order=_order_for(request, order_id), payment_id=int(payment_id)
        )
        payment_services.payment_refund(
            payment=payment,
            amount=body.validated_data["amount"],
            by_user_id=_caller_id(request),
            reason=body.validated_data["reason"],
        )
        payment.refresh_from_db()
        return Response(PaymentSerializer(payment).data, status=201)


class PaymentWebhookView(APIView):
    """A provider's webhook: public (no token), trusted only by its signature."""

    authentication_classes = []
    permission_classes = [AllowAny]
    provider_name = ""

    def post(self, request):
        # The raw body: the signature is over the exact bytes the provider sent.
        outcome = payment_services.payment_webhook_receive(
            provider_name=self.provider_name, body=request._request.body, headers=request.headers
        )
        return Response(
            {"received": True, "event_id": outcome.event_id, "duplicate": outcome.duplicate}
        )


def webhook_view(provider_name: str):
    """The webhook view of one configured provider (one path and operation each)."""

    def post(self, request):
        return PaymentWebhookView.post(self, request)

    documented = extend_schema(
        operation_id=f"orders_payments_webhook_{provider_name.replace('-', '_')}",
        summary=f"The {provider_name} provider's webhook (for the provider, not storefronts)",
        description="Public, no token: trusted only by its signature. 400 webhook_invalid and "
        "nothing changed when the signature does not verify or is older than the tolerance "
        "(stripe: the Stripe-Signature header, 5 minutes). stripe: handles "
        "payment_intent.succeeded, payment_intent.payment_failed and charge.refunded, once "
        "per event id (a replay answers 200 with duplicate: true and changes nothing).",
        request={"application/json": {"type": "object", "additionalProperties": True}},
        responses={200: WebhookAnswerSerializer, **problem_responses(400)},
    )(post)
    view = type(
        f"{provider_name.title().replace('-', '')}WebhookView",
        (PaymentWebhookView,),
        {"provider_name": provider_name, "post": documented},
    )
    return view.as_view()
