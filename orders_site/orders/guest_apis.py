"""A guest's order, without an account: /api/v1/orders/guest/{number}/...

The order's access token (the guest checkout's 201 and confirmation email) in the
X-Order-Token header is the credential: it shows the order, pays it and cancels it as
its owner would. Any mismatch is 404, as for an order that does not exist.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import selectors, services
from orders.apis import IDEMPOTENT_REPLAYED, _idempotency_key
from orders.errors import OrderErrorCode
from orders.payment_apis import PAYMENT_IDEMPOTENCY_KEY
from orders.payment_serializers import PaymentCreateSerializer, PaymentSerializer
from orders.serializers import OrderCancelSerializer, OrderDetailSerializer
from orders.services import payments as payment_services
from shopkit.errors import ApplicationError
from shopkit.schema import problem_responses

ORDER_TOKEN_HEADER = "X-Order-Token"
ORDER_TOKEN_PARAMETER = OpenApiParameter(
    ORDER_TOKEN_HEADER,
    {"type": "string", "minLength": 1, "maxLength": 128},
    OpenApiParameter.HEADER,
    required=True,
    description="The guest order's access token (the checkout's `access_token`, also in "
    "the confirmation email).",
)


class GuestOrderView(APIView):
    authentication_classes = []  # the order token is the credential
    permission_classes = [AllowAny]

    def guest_order(self, request, number: str):
        token = request.headers.get(ORDER_TOKEN_HEADER, "")
        if not token or len(token) > 128:
            raise ApplicationError(
                "Send the order's access token in the X-Order-Token header.",
                code=OrderErrorCode.ORDER_TOKEN_REQUIRED,
                status=400,
            )
        return selectors.guest_order_get(number=number, access_token=token)


class GuestOrderApi(GuestOrderView):
    @extend_schema(
        operation_id="orders_guest_retrieve",
        summary="A guest's order (by its access token)",
        parameters=[ORDER_TOKEN_PARAMETER],
        responses={200: OrderDetailSerializer, **problem_responses(400, 404)},
    )
    def get(self, request, number):
        return Response(OrderDetailSerializer(self.guest_order(request, number)).data)


class GuestOrderCancelApi(GuestOrderView):
    @extend_schema(
        operation_id="orders_guest_cancel",
        summary="Cancel a guest's order",
        description="As its owner may: while pending or confirmed (409 otherwise); the stock "
        "goes back and what was paid is refunded.",
        parameters=[ORDER_TOKEN_PARAMETER],
        request=OrderCancelSerializer,
        responses={200: OrderDetailSerializer, **problem_responses(400, 404, 409, 503)},
    )
    def post(self, request, number):
        body = OrderCancelSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = self.guest_order(request, number)
        order = services.order_cancel(
            order=order,
            by_user_id=None,
            by_email=order.email,
            by_staff=False,
            note=body.validated_data["note"],
        )
        return Response(OrderDetailSerializer(order).data)


class GuestOrderPaymentsApi(GuestOrderView):
    @extend_schema(
        operation_id="orders_guest_payments_list",
        summary="A guest order's payments",
        parameters=[ORDER_TOKEN_PARAMETER],
        responses={200: PaymentSerializer(many=True), **problem_responses(400, 404)},
    )
    def get(self, request, number):
        order = self.guest_order(request, number)
        payments = selectors.payment_list(order=order)
        return Response(
            PaymentSerializer(payments, many=True, context={"show_client_secret": True}).data
        )

    @extend_schema(
        operation_id="orders_guest_payments_create",
        summary="Pay a guest's order",
        description="As POST /api/v1/orders/{id}/payments/ for an owner: the same providers, "
        "Idempotency-Key rules and refusals.",
        parameters=[ORDER_TOKEN_PARAMETER, PAYMENT_IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        request=PaymentCreateSerializer,
        responses={201: PaymentSerializer, **problem_responses(400, 404, 409, 422, 503)},
    )
    def post(self, request, number):
        key = _idempotency_key(request)
        body = PaymentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = self.guest_order(request, number)
        created = payment_services.payment_create(
            order=order, provider_name=body.validated_data["provider"], idempotency_key=key
        )
        return Response(
            PaymentSerializer(created.payment, context={"show_client_secret": True}).data,
            status=201,
            headers={"Idempotent-Replayed": "true"} if created.replayed else None,
        )
