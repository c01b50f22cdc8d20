"""The checkout saga (`order_checkout`) and the steps its recovery shares.

Checkout is a saga over HTTP; each step is idempotent on the order number, which is
drawn when the Idempotency-Key is claimed and is also the catalog reservation's and
the cart clear's `reference`:

    1 claim the key, with a lease (idempotency.py)   2 check the shipping method for
    the destination (shipping.py), take earlier orders' lines out of the cart if a
    clear is still owed, then read the cart (cart)   3 reserve stock for the
    destination (catalog: prices, tax rates charged, weights)   4 price the shipping
    from the reserved lines, write order + lines + history (one transaction, only
    while the key is still ours)   5 commit the reservation (catalog)   6 clear the cart (cart: what
    was ordered, checked against the version read)   7 store the 201 on the key

Replays: same key + same body -> the stored response (201, or a stored 4xx: empty
cart, out of stock, products no longer sold, unknown/invalid saved address), with
`Idempotent-Replayed: true`; same key + other body -> 422; a key a live attempt holds,
or another checkout of the same customer running -> 409 `checkout_in_progress`
(Retry-After: 1), and the retry gets the result. Bad input (body, header) is refused
before the key is claimed, so it does not use the key up. A neighbour failure (503)
stores no response: the key is `failed` and the same key may run the checkout again.

Every order takes its lines out of the cart exactly once (the clear, step 6). When the
cart cannot be reached then, the 201 still goes out and the clear is owed: the
customer's next checkout applies every owed clear before it reads the cart (step 2),
and reconcile applies them too. So an order's lines are never in a later order unless
the customer added them again; the clear itself leaves alone whatever was added since
the version the checkout read (docs/internal-api.md, "Cart internal API").

Recovery rules: what a crash (or a failure) after each step leaves, and what repairs it.
"Retry" is the client sending the same key and body again; "reconcile" is
`manage.py reconcile_checkouts` (every minute or so, well inside the catalog's
RESERVATION_TTL_SECONDS); "expired" is a key whose lease was not renewed for
CHECKOUT_LEASE_SECONDS (10 s: its process died). The customer's next checkout with
another key settles an expired key of theirs the way reconcile does.

| stopped after | left behind | repaired by |
| --- | --- | --- |
| 1 claim, 2 cart read (crash) | key in_progress, nothing held | once expired, a retry (the saga runs again under a new order number) or reconcile (key -> failed, then a retry) |
| 3 reserve (crash, or its answer lost) | key in_progress, stock maybe held under the number | the catalog's expiry; sooner, once expired, a retry or reconcile releases the number (tombstone), and the retry runs the saga under a new one |
| 2-4 failed: a neighbour 503, or the order write raised | key failed, no response stored; the number released at once (if the catalog answers; else its expiry) | a retry with the same key runs the saga again (new number) |
| 4 order written (crash) | order pending, reservation reserved, cart full, key in_progress | reconcile commits and clears at once; once expired, a retry or reconcile also stores the 201 on the key; the customer's next checkout clears first. A reservation that expired first: the order is cancelled by the system, its history says why |
| 5 committed (crash) | the same, reservation committed | the same: clear, then store the 201 |
| 5 or 6 answered 503 | order stands, 201 stored and returned, the step owed | a replay of the key, the customer's next checkout (the clear), or reconcile, retries the owed step (each is idempotent per reference) |
| 6 cart cleared (crash) | all done, key in_progress | once expired, a retry or reconcile stores the order's 201 on the key |

Why the order number changes when a key runs again: a released or expired reference
can never be reserved again (catalog tombstones). It changes only under the key's
row lock and only when no order exists for the old number; the order write takes the
same lock and checks that the key is still this attempt's (owner and number), so an
attempt that was given up can never write its order late (it releases its
reservation instead). No database lock is held across a call to another service.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orders import clients
from orders.clients import LineQuantity, Reservation, ReservationReleased
from orders.documents import order_document
from orders.errors import FINAL_CHECKOUT_ERRORS, CheckoutInProgress, OrderErrorCode
from orders.models import (
    SHIPPING_ADDRESS_FIELDS,
    IdempotencyKey,
    IdempotencyKeyState,
    Order,
    OrderLine,
    OrderStatus,
)
from orders.services.emails import order_placed_email
from orders.services.idempotency import (
    GUEST_USER_ID,
    CheckoutResponse,
    CustomerCheckoutRunning,
    LeaseKeeper,
    TakenKey,
    key_claim,
    key_complete,
    key_fail,
    key_is_live,
    key_owned_for_update,
    key_running_for,
    key_take_over,
    lease_owner_generate,
    request_fingerprint,
)
from orders.services.shipping import (
    shipping_charge_for_reservation,
    shipping_method_for_checkout,
)
from orders.services.status import order_cancel, status_change_record
from orders.shipping import ShippingCharge
from shopkit import money
from shopkit.address import address_validated
from shopkit.errors import ApplicationError, ServiceUnavailable, problem
from shopkit.prepared import PreparedInsert, PreparedValuesQuery, PreparedWrite
from shopkit.routers import ECOMMERCE_DB

logger = logging.getLogger(__name__)


def token_hash(token: str) -> str:
    """SHA-256 hex: how a bearer token (a guest's cart or order token) is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class GuestCheckout:
    """A checkout without an account: the guest cart's X-Cart-Token (the order's email
    is the `email` of order_checkout, given in the request's body)."""

    cart_token: str

    @property
    def scope(self) -> str:
        """What scopes the Idempotency-Key and the checkout slot: the cart token's hash."""
        return token_hash(self.cart_token)


ANOTHER_CHECKOUT_RUNNING = (
    "Another checkout of yours is in progress; retry shortly, once it has finished."
)


def order_checkout(
    *,
    user_id: int | None,
    email: str,
    idempotency_key: str,
    language: str = "",
    email_verified: bool = True,
    shipping_address: dict | None = None,
    address_id: int | None = None,
    notes: str = "",
    shipping_method: str | None = None,
    guest: GuestCheckout | None = None,
) -> CheckoutResponse:
    """Turn the user's cart into an order, exactly once per Idempotency-Key.

    Returns the response to send (201 with the order, or a stored 4xx problem);
    raises ApplicationError for answers that are not stored: 422 key reused,
    409 checkout in progress, 503 a neighbour is down (nothing held, key reusable).
    `shipping_method` (a code) is required when a method serves the destination.
    `email` and `language` are kept on the order: its emails go there, in that language.
    With REQUIRE_VERIFIED_EMAIL, an unverified `email_verified` is a 403 before anything
    is claimed or held.

    A guest (`guest`, `user_id` None) checks out the guest cart of its token, the key
    scoped to that cart; the order has no user and gets a random access token, in the
    first 201's `access_token` and the confirmation email (stored hashed only, so a
    replay of the key answers without it).
    """
    if settings.REQUIRE_VERIFIED_EMAIL and not email_verified:
        raise ApplicationError(
            "Verify your email address before checking out (see the link we emailed you).",
            code=OrderErrorCode.EMAIL_NOT_VERIFIED,
            status=403,
        )
    request = {"shipping_address": shipping_address, "address_id": address_id, "notes": notes}
    if shipping_method is not None:
        # Only when given: keys stored before shipping existed keep their fingerprint.
        request["shipping_method"] = shipping_method
    if guest is not None:
        request["email"] = email
    fingerprint = request_fingerprint(request)
    scope = guest.scope if guest is not None else ""
    taken = _key_acquire(
        user_id=GUEST_USER_ID if guest is not None else user_id,
        key=idempotency_key,
        fingerprint=fingerprint,
        guest_scope=scope,
    )
    if isinstance(taken, IdempotencyKey):
        return _checkout_replay(key=taken)
    access_token = secrets.token_urlsafe(32) if guest is not None else None
    with LeaseKeeper(taken.key):
        if taken.abandoned_number is not None:
            clients.catalog_release_quietly(reference=taken.abandoned_number)
        if taken.written_order_id is not None:
            return _checkout_finish(key=taken.key, order=_order_read(taken.written_order_id))
        outcome = _checkout_run(
            key=taken.key,
            user_id=None if guest is not None else user_id,
            email=email,
            language=language,
            shipping_address=shipping_address,
            address_id=address_id,
            notes=notes,
            shipping_method=shipping_method,
            guest=guest,
            access_token=access_token,
        )
    if access_token is not None and outcome.status == 201:
        # Only this response carries the token (the key stores the body without it).
        outcome = CheckoutResponse(status=201, body={**outcome.body, "access_token": access_token})
    return outcome


def _key_acquire(
    *, user_id: int, key: str, fingerprint: str, guest_scope: str = ""
) -> TakenKey | IdempotencyKey:
    """The key owned by this request (with its lease), or the completed key to replay.

    A checkout of the same customer that died (its lease ran out) is settled first,
    as reconcile would; a live one is a 409.
    """
    owner = lease_owner_generate()
    for _ in range(3):
        try:
            claimed = key_claim(
                user_id=user_id,
                key=key,
                fingerprint=fingerprint,
                owner=owner,
                guest_scope=guest_scope,
            )
            if claimed is not None:
                return TakenKey(key=claimed, written_order_id=None, abandoned_number=None)
            existing = IdempotencyKey.objects.get(user_id=user_id, guest_scope=guest_scope, key=key)
            if existing.fingerprint != fingerprint:
                raise ApplicationError(
                    "This Idempotency-Key was used for a different request; use a new key.",
                    code=OrderErrorCode.IDEMPOTENCY_KEY_REUSED,
                    status=422,
                )
            if existing.state == IdempotencyKeyState.COMPLETED:
                return existing
            if key_is_live(existing):
                raise CheckoutInProgress()
            return key_take_over(key_id=existing.pk, owner=owner)
        except CustomerCheckoutRunning:
            running = key_running_for(user_id=user_id, guest_scope=guest_scope)
            if running is not None and key_is_live(running):
                raise CheckoutInProgress(ANOTHER_CHECKOUT_RUNNING) from None
            if running is not None:
                checkout_abandoned_settle(key_id=running.pk)
    raise CheckoutInProgress(ANOTHER_CHECKOUT_RUNNING)


def checkout_abandoned_settle(*, key_id: int) -> str | None:
    """A key whose attempt died: finish its order, or mark it failed. Returns the new state.

    None when there was nothing to settle (completed, or held by a live attempt).
    """
    try:
        taken = key_take_over(key_id=key_id, owner=lease_owner_generate())
    except (CheckoutInProgress, CustomerCheckoutRunning):
        return None
    if isinstance(taken, IdempotencyKey):
        return None
    with LeaseKeeper(taken.key):
        if taken.abandoned_number is not None:
            clients.catalog_release_quietly(reference=taken.abandoned_number)
        if taken.written_order_id is None:
            key_fail(key=taken.key)
            return IdempotencyKeyState.FAILED
        _checkout_finish(key=taken.key, order=_order_read(taken.written_order_id))
    return IdempotencyKeyState.COMPLETED


def _checkout_run(
    *,
    key: IdempotencyKey,
    user_id: int | None,
    email: str,
    language: str,
    shipping_address: dict | None,
    address_id: int | None,
    notes: str,
    shipping_method: str | None,
    guest: GuestCheckout | None = None,
    access_token: str | None = None,
) -> CheckoutResponse:
    """Steps 2-7 for a key this request owns (a customer's, or a guest's: `guest`)."""
    try:
        address = (
            shipping_address
            if shipping_address is not None
            else _saved_address(user_id=user_id, address_id=address_id)
        )
        country = address["country"]
        # Before anything is held: a method deactivated since the quote is refused here.
        method = shipping_method_for_checkout(code=shipping_method, country=country)
        if guest is None:
            _owed_cart_clears_apply(owing=_CUSTOMER_ORDERS_OWING_CLEAR.rows(user_id=user_id))
            cart = clients.cart_read(user_id=user_id)
        else:
            _owed_cart_clears_apply(
                owing=_GUEST_ORDERS_OWING_CLEAR.rows(cart_token_hash=guest.scope)
            )
            cart = clients.cart_read_guest(cart_token=guest.cart_token)
        if cart is None or not cart.lines:
            raise ApplicationError(
                "The cart is empty; add products before checking out.",
                code=OrderErrorCode.EMPTY_CART,
                status=400,
            )
        reservation = _stock_reserve(
            reference=key.order_number, lines=list(cart.lines), country=country
        )
        try:
            shipping = (
                None
                if method is None
                else shipping_charge_for_reservation(
                    method=method, reservation=reservation, country=country
                )
            )
            order = _order_write(
                key=key,
                user_id=user_id,
                email=email,
                language=language,
                address=address,
                notes=notes,
                reservation=reservation,
                shipping=shipping,
                cart_version=cart.version,
                guest=guest,
                access_token=access_token,
            )
        except Exception:
            # Nothing will ever commit this reservation: give the stock back now.
            clients.catalog_release_quietly(reference=key.order_number)
            raise
    except ApplicationError as error:
        if error.code in FINAL_CHECKOUT_ERRORS:
            body = problem(
                error.status,
                code=error.code,
                detail=error.detail,
                errors=error.errors,
                extra=error.extra,
            )
            return key_complete(key=key, status=error.status, body=body)
        key_fail(key=key)
        raise
    except Exception:
        key_fail(key=key)
        raise
    return _checkout_finish(key=key, order=order)


def _saved_address(*, user_id: int, address_id: int) -> dict:
    """The saved address from auth, checked by the same rules as an inline one."""
    try:
        return address_validated(clients.auth_address(user_id=user_id, address_id=address_id))
    except ValidationError as invalid:
        raise ApplicationError(
            "The saved address is incomplete; fix it or send the address inline.",
            code=OrderErrorCode.ADDRESS_INVALID,
            status=400,
            errors={
                "address_id": [
                    f"{field}: {message}"
                    for field, messages in invalid.message_dict.items()
                    for message in messages
                ]
            },
        ) from None


def _stock_reserve(*, reference: str, lines: list[LineQuantity], country: str) -> Reservation:
    try:
        return clients.catalog_reserve(reference=reference, lines=lines, country=country)
    except ServiceUnavailable:
        # The catalog may have reserved before the failure: release the reference (this
        # also tombstones it, so a late reserve holds nothing). Unreachable: it expires.
        clients.catalog_release_quietly(reference=reference)
        raise


# The order write's INSERTs and the follow-up's UPDATE, their SQL kept (shopkit.prepared).
_INSERT_ORDER = PreparedInsert(Order)
_INSERT_LINES = PreparedInsert(OrderLine)
_ORDER_FOLLOWED_UP = PreparedWrite.update(
    Order, set=("reservation_committed_at", "cart_cleared_at"), where=("id",)
)


def _order_write(
    *,
    key: IdempotencyKey,
    user_id: int,
    email: str,
    language: str,
    address: dict,
    notes: str,
    reservation: Reservation,
    shipping: ShippingCharge | None,
    cart_version: int,
    guest: GuestCheckout | None = None,
    access_token: str | None = None,
) -> Order:
    """Step 4: order, lines (prices from the reservation) and first history entry, together.

    The shipping method is copied as it was charged (name, carrier, price, tax). The
    confirmation email is enqueued in the same transaction (services/emails.py).
    """
    amounts = [
        money.line_amounts(line.unit_price, line.quantity, line.tax_rate)
        for line in reservation.lines
    ]
    sums = money.totals(amounts)
    shipping_fields = (
        {}
        if shipping is None
        else {
            "shipping_method_code": shipping.method.code,
            "shipping_method_name": shipping.method.name,
            "shipping_carrier": shipping.method.carrier,
            "shipping_tax_rate": shipping.tax_rate,
            "shipping_total": shipping.price,
            "shipping_tax": shipping.tax,
        }
    )
    shipping_sum = Decimal(0) if shipping is None else shipping.price + shipping.tax
    with transaction.atomic(using=ECOMMERCE_DB):
        # The key's row lock orders this write against a take-over; an attempt that was
        # given up (its lease ran out and another took the key) writes nothing.
        if not key_owned_for_update(key):
            raise CheckoutInProgress()
        # Every field below comes from validated data (the request's serializer, or a
        # saved address through address_validated; the token's claims; the catalog's
        # reservation), and the checks hold in the database too: no full_clean, whose
        # validators (the country among ~250 choices, the email) cost more than the writes.
        order = Order(
            number=key.order_number,
            user_id=user_id,
            email=email,
            language=language,
            status=OrderStatus.PENDING,
            notes=notes,
            currency=settings.SHOP_CURRENCY,
            subtotal=sums.subtotal,
            tax=sums.tax,
            total=money.to_cents(sums.total + shipping_sum),
            **shipping_fields,
            cart_version=cart_version,
            access_token_hash=token_hash(access_token) if access_token else "",
            guest_cart_token_hash=guest.scope if guest is not None else "",
            **{name: address.get(name, "") for name in SHIPPING_ADDRESS_FIELDS},
        )
        _INSERT_ORDER.save(order)
        lines = _INSERT_LINES.save_many(
            OrderLine(
                order=order,
                product_id=line.product_id,
                sku=line.sku,
                name=line.name,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                quantity=line.quantity,
                line_total=amount.line_total,
                line_tax=amount.line_tax,
            )
            for line, amount in zip(reservation.lines, amounts, strict=True)
        )
        placed = status_change_record(
            order=order,
            from_status=None,
            to_status=OrderStatus.PENDING,
            by_user_id=user_id,
            by_email=email,
            note="Order placed." if guest is None else "Order placed by a guest.",
            validated=True,
        )
        order_placed_email(order=order, lines=lines, access_token=access_token)
    # The 201 is this order as written (order_document): its lines and history are what
    # was just inserted, in their read order, so they need no query to show.
    order._prefetched_objects_cache = {"lines": lines, "history": [placed]}
    return order


def _order_read(order_id: int) -> Order:
    """An order with its lines and history, as order_document shows it."""
    return Order.objects.prefetch_related("lines", "history").get(pk=order_id)


def _checkout_finish(*, key: IdempotencyKey, order: Order) -> CheckoutResponse:
    """Steps 5-7 for an order that exists (its lines and history loaded): commit, clear
    the cart, store the 201."""
    if checkout_follow_up(order=order).cancelled:
        order = _order_read(order.pk)  # the reservation had expired: show the cancellation
    return key_complete(key=key, status=201, body=order_document(order))


def _checkout_replay(*, key: IdempotencyKey) -> CheckoutResponse:
    """The stored response; a step the first attempt could not finish is retried first."""
    if key.response_status == 201:
        order = orders_owing_follow_up().filter(number=key.order_number).first()
        if order is not None:
            checkout_follow_up(order=order)
    return CheckoutResponse(status=key.response_status, body=key.response_body, replayed=True)


def orders_owing_follow_up():
    """Orders that still owe the reservation commit (unless cancelled) or the cart clear."""
    return Order.objects.filter(
        Q(cart_cleared_at__isnull=True)
        | (Q(reservation_committed_at__isnull=True) & ~Q(status=OrderStatus.CANCELLED))
    ).prefetch_related("lines")


# Every checkout first asks whether an earlier order of its customer (or guest cart)
# still owes its cart clear; almost never, so that question is one statement compiled
# once per process (shopkit.prepared), and the orders are loaded only when there are some.
_CUSTOMER_ORDERS_OWING_CLEAR = PreparedValuesQuery(
    lambda user_id: Order.objects.filter(user_id=user_id, cart_cleared_at__isnull=True).values(
        "id"
    ),
    arguments=("user_id",),
)
_GUEST_ORDERS_OWING_CLEAR = PreparedValuesQuery(
    lambda cart_token_hash: Order.objects.filter(
        guest_cart_token_hash=cart_token_hash, cart_cleared_at__isnull=True
    ).values("id"),
    arguments=("cart_token_hash",),
)


def _owed_cart_clears_apply(*, owing: list[dict]) -> None:
    """Step 2's first half: earlier orders (of the customer, or of the guest cart) whose
    clear is still owed (`owing`: their ids, as rows) leave the cart now.

    Raises ServiceUnavailable when the cart cannot take them (the checkout is a 503),
    so a cart read never returns lines that an order already took.
    """
    if not owing:
        return
    owed = Order.objects.filter(pk__in=[row["id"] for row in owing])
    for order in owed.prefetch_related("lines"):
        _cart_clear(order)
        Order.objects.filter(pk=order.pk).update(cart_cleared_at=order.cart_cleared_at)


def _cart_clear(order: Order) -> None:
    """Take the order's lines out of the cart it was read from: its customer's, or the
    guest cart of a guest order (idempotent per order number)."""
    lines = [
        LineQuantity(product_id=line.product_id, quantity=line.quantity)
        for line in order.lines.all()
    ]
    if order.guest_cart_token_hash:
        clients.cart_clear_guest(
            cart_token_hash=order.guest_cart_token_hash,
            reference=order.number,
            version=order.cart_version,
            lines=lines,
        )
    else:
        clients.cart_clear(
            user_id=order.user_id, reference=order.number, version=order.cart_version, lines=lines
        )
    order.cart_cleared_at = timezone.now()


@dataclass
class FollowUpResult:
    committed: bool = False
    cleared: bool = False
    cancelled: bool = False


def checkout_follow_up(*, order: Order) -> FollowUpResult:
    """Steps 5 and 6 for an order that still owes them. Failures leave them owed, never raise.

    A cancelled order owes no commit, but still its cart clear: its lines went into an
    order, so they leave the cart. If the catalog says the reservation was released (it
    expired before it was committed), the order cannot be fulfilled: it is cancelled by
    the system, and its history says why.
    """
    result = FollowUpResult()
    if order.status != OrderStatus.CANCELLED and order.reservation_committed_at is None:
        try:
            clients.catalog_commit(reference=order.number)
            order.reservation_committed_at = timezone.now()
            result.committed = True
        except ReservationReleased:
            logger.error("reservation expired before commit", extra={"number": order.number})
            result.cancelled = _cancel_unreserved(order)
        except ServiceUnavailable:
            logger.warning("reservation commit left for later", extra={"number": order.number})
    if order.cart_cleared_at is None:
        try:
            _cart_clear(order)
            result.cleared = True
        except ServiceUnavailable:
            logger.warning("cart clear left for later", extra={"number": order.number})
    if result.committed or result.cleared:
        _ORDER_FOLLOWED_UP.execute(order.reservation_committed_at, order.cart_cleared_at, order.pk)
    return result


def _cancel_unreserved(order: Order) -> bool:
    try:
        order_cancel(
            order=order,
            by_user_id=None,
            by_staff=True,
            note="Cancelled by the system: the stock reservation expired before it was committed.",
        )
        return True
    except ApplicationError as error:  # shipped meanwhile, or the catalog went down
        logger.error(
            "could not cancel an unreserved order",
            extra={"number": order.number, "reason": str(error)},
        )
        return False
