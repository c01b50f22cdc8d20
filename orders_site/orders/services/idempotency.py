"""The checkout's Idempotency-Key store: claims, leases, take-overs, stored responses.

A key row is the checkout's record: the request's fingerprint, the order number of
the current attempt, and once settled the response to replay. While an attempt runs
it holds the key's lease: `lease_owner` names the attempt, `lease_expires_at` is
renewed by the live process (`LeaseKeeper`, every third of CHECKOUT_LEASE_SECONDS).
A process that dies stops renewing, so its key can be taken over once the lease has
run out (10 s by default), instead of after a fixed wait.

Never two owners: the owner changes only under the key's row lock
(`key_take_over`), and every write of an attempt (the order write, storing the
response, giving up) is conditional on `lease_owner` still being its own, under the
same lock. An attempt whose lease ran out while it was merely slow loses at its next
write and gives back what it held.

One checkout per customer at a time: `running_for_user` holds the customer's id while
a key is in progress and is unique, so a second checkout of the same customer (any
key) waits its turn (409 checkout_in_progress, Retry-After) and never reads cart lines
that a running checkout is about to sell.
"""

import hashlib
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError, OperationalError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from orders.errors import CheckoutInProgress
from orders.models import IdempotencyKey, IdempotencyKeyState, Order
from shopkit.deadlocks import retried
from shopkit.errors import ApplicationError
from shopkit.prepared import PreparedInsert, PreparedValuesQuery, PreparedWrite
from shopkit.routers import ECOMMERCE_DB

logger = logging.getLogger(__name__)

CROCKFORD_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MYSQL_DEADLOCK = 1213  # MySQL/MariaDB: "Deadlock found when trying to get lock"


@dataclass(frozen=True)
class CheckoutResponse:
    """What a checkout answers: the first time, or replayed from its Idempotency-Key."""

    status: int
    body: dict
    replayed: bool = False


def order_number_generate() -> str:
    """A fresh public order number: "T-" + 10 random Crockford base32 characters (50 bits)."""
    return "T-" + "".join(secrets.choice(CROCKFORD_BASE32) for _ in range(10))


def request_fingerprint(payload: dict) -> str:
    """sha256 of the request as canonical JSON (sorted keys, no whitespace)."""
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def lease_owner_generate() -> str:
    return secrets.token_hex(16)


def _lease_end():
    return timezone.now() + timedelta(seconds=settings.CHECKOUT_LEASE_SECONDS)


def key_is_live(key: IdempotencyKey) -> bool:
    """An attempt holds this key right now: in progress, and its lease has not run out."""
    return (
        key.state == IdempotencyKeyState.IN_PROGRESS
        and key.lease_expires_at is not None
        and key.lease_expires_at > timezone.now()
    )


def expired_keys_in_progress():
    """Keys in progress whose owner stopped renewing its lease (its process died)."""
    return IdempotencyKey.objects.filter(state=IdempotencyKeyState.IN_PROGRESS).filter(
        Q(lease_expires_at__lt=timezone.now()) | Q(lease_expires_at__isnull=True)
    )


class CustomerCheckoutRunning(Exception):
    """Another key of this customer is in progress (`running_for_user` is taken)."""


GUEST_USER_ID = 0  # IdempotencyKey.user_id of a guest's checkout (scoped by guest_scope)


def _running_slot(*, user_id: int, guest_scope: str) -> dict:
    """The fields holding the checkout slot of a customer, or of a guest cart."""
    if guest_scope:
        return {"running_for_user": None, "running_for_guest": guest_scope}
    return {"running_for_user": user_id, "running_for_guest": None}


def key_find(*, user_id: int, key: str, guest_scope: str = "") -> IdempotencyKey | None:
    return IdempotencyKey.objects.filter(user_id=user_id, guest_scope=guest_scope, key=key).first()


def key_running_for(*, user_id: int, guest_scope: str = "") -> IdempotencyKey | None:
    """The customer's (or guest cart's) key in progress, if any."""
    if guest_scope:
        return IdempotencyKey.objects.filter(running_for_guest=guest_scope).first()
    return IdempotencyKey.objects.filter(running_for_user=user_id).first()


# Every checkout's writes of its key, their SQL kept (shopkit.prepared): the claim, the
# settlement (completed with its response, or failed), the lease's renewals.
_INSERT_KEY = PreparedInsert(IdempotencyKey)
_SETTLE_WHERE = ("id", "lease_owner", "state")
_SETTLE_SET = ("lease_owner", "lease_expires_at", "running_for_user", "running_for_guest")
_KEY_COMPLETE = PreparedWrite.update(
    IdempotencyKey,
    set=(*_SETTLE_SET, "updated_at", "state", "response_status", "response_body"),
    where=_SETTLE_WHERE,
)
_KEY_FAIL = PreparedWrite.update(
    IdempotencyKey, set=(*_SETTLE_SET, "updated_at", "state"), where=_SETTLE_WHERE
)
_KEY_RENEW = PreparedWrite.update(IdempotencyKey, set=("lease_expires_at",), where=_SETTLE_WHERE)


def _claim_insert(claim: IdempotencyKey) -> None:
    """The claim's INSERT: under autocommit a transaction of its own; inside a caller's
    transaction (a test's) in a savepoint, so a claim that loses leaves it usable."""
    if connections[ECOMMERCE_DB].in_atomic_block:
        with transaction.atomic(using=ECOMMERCE_DB):
            _INSERT_KEY.save(claim)
    else:
        _INSERT_KEY.save(claim)


def key_claim(
    *, user_id: int, key: str, fingerprint: str, owner: str, guest_scope: str = ""
) -> IdempotencyKey | None:
    """Insert the key with this attempt's lease (it is ours), or None when the key exists.

    Raises CustomerCheckoutRunning when another key of the customer is in progress.
    A guest's key (`guest_scope`: its cart token's SHA-256, user_id GUEST_USER_ID) is
    scoped to the guest cart the same way.
    """
    for _ in range(3):
        claim = IdempotencyKey(
            user_id=user_id,
            guest_scope=guest_scope,
            key=key,
            fingerprint=fingerprint,
            order_number=order_number_generate(),
            lease_owner=owner,
            lease_expires_at=_lease_end(),
            **_running_slot(user_id=user_id, guest_scope=guest_scope),
        )
        # No full_clean: the key was checked by the API (1-255 printable characters) and
        # every other field is made here. Uniqueness is what the insert itself decides
        # (that is the claim); checking it first would only race.
        try:
            _claim_insert(claim)
            return claim
        except OperationalError as error:
            if not error.args or error.args[0] != MYSQL_DEADLOCK:
                raise
            # Parallel claims of one key can deadlock on its unique indexes, and InnoDB
            # rolls one back: that claim lost the race, as a duplicate would. Once more:
            # the insert waits for the winner, then finds its key.
            continue
        except IntegrityError:
            if key_find(user_id=user_id, key=key, guest_scope=guest_scope) is not None:
                return None
            if key_running_for(user_id=user_id, guest_scope=guest_scope) is not None:
                raise CustomerCheckoutRunning from None
            # Neither: the drawn order number was taken (50 random bits). Draw again.
    raise ApplicationError(
        "Could not allocate an order number; retry.", code="conflict", status=409
    )


@dataclass(frozen=True)
class TakenKey:
    """A key this attempt now owns, and what the attempt it replaced left behind."""

    key: IdempotencyKey
    written_order_id: int | None  # the order a previous attempt wrote (finish it)
    abandoned_number: str | None  # the previous attempt's number, without an order (release it)


def key_take_over(*, key_id: int, owner: str) -> TakenKey | IdempotencyKey:
    """Make a failed key, or one whose owner's lease ran out, this attempt's.

    The one take-over step, for a retry of the same key and for reconcile alike.
    Returns the key itself when it is completed (replay it); raises CheckoutInProgress
    while a live attempt holds it, CustomerCheckoutRunning when another key of the
    customer is in progress. Without an order under the current number, the key gets
    a new number (a released reference can never be reserved again) and the old one is
    returned to be released; with one, the number stays and the order is to be finished.
    """
    try:
        with transaction.atomic(using=ECOMMERCE_DB):
            key = IdempotencyKey.objects.select_for_update().get(pk=key_id)
            if key.state == IdempotencyKeyState.COMPLETED:
                return key
            if key_is_live(key):
                raise CheckoutInProgress()
            written_order_id = (
                Order.objects.filter(number=key.order_number).values_list("pk", flat=True).first()
            )
            abandoned_number = None
            if written_order_id is None:
                abandoned_number, key.order_number = key.order_number, order_number_generate()
            key.state = IdempotencyKeyState.IN_PROGRESS
            key.lease_owner = owner
            key.lease_expires_at = _lease_end()
            for name, value in _running_slot(
                user_id=key.user_id, guest_scope=key.guest_scope
            ).items():
                setattr(key, name, value)
            key.save()
    except IntegrityError:
        raise CustomerCheckoutRunning from None
    if abandoned_number is not None:
        logger.info(
            "checkout taken over",
            extra={"abandoned_number": abandoned_number, "number": key.order_number},
        )
    return TakenKey(key=key, written_order_id=written_order_id, abandoned_number=abandoned_number)


# Every checkout's order write locks its key this way: compiled once (shopkit.prepared).
_KEY_OWNED_FOR_UPDATE = PreparedValuesQuery(
    lambda key_id, owner, order_number: (
        IdempotencyKey.objects.select_for_update()
        .filter(
            pk=key_id,
            lease_owner=owner,
            order_number=order_number,
            state=IdempotencyKeyState.IN_PROGRESS,
        )
        .values("id")
    ),
    arguments=("key_id", "owner", "order_number"),
)


def key_owned_for_update(key: IdempotencyKey) -> bool:
    """Inside the caller's transaction: lock the key; True while this attempt still owns it."""
    return bool(
        _KEY_OWNED_FOR_UPDATE.rows(
            key_id=key.pk, owner=key.lease_owner, order_number=key.order_number
        )
    )


# Settling ends this attempt's hold on the key (only if it still owns it): no lease, no
# checkout slot, and the new state.
_SETTLED = ("", None, None, None)


# Settling frees the customer's checkout slot (a unique index) while other checkouts
# claim theirs, so InnoDB may pick the settling UPDATE as a deadlock victim. It is one
# conditional statement: run again (shopkit.deadlocks). Given up, the attempt would
# answer 503 and its key stay held until its lease ran out.
def key_complete(*, key: IdempotencyKey, status: int, body: dict) -> CheckoutResponse:
    """Store the response on the key (only if this attempt still owns it)."""
    retried(
        lambda: _KEY_COMPLETE.execute(
            *_SETTLED,
            timezone.now(),
            IdempotencyKeyState.COMPLETED,
            status,
            body,
            *(key.pk, key.lease_owner, IdempotencyKeyState.IN_PROGRESS),
        ),
        using=ECOMMERCE_DB,
    )
    return CheckoutResponse(status=status, body=body)


def key_fail(*, key: IdempotencyKey) -> None:
    """No response stored: the same key may run the checkout again."""
    retried(
        lambda: _KEY_FAIL.execute(
            *_SETTLED,
            timezone.now(),
            IdempotencyKeyState.FAILED,
            *(key.pk, key.lease_owner, IdempotencyKeyState.IN_PROGRESS),
        ),
        using=ECOMMERCE_DB,
    )


class LeaseKeeper:
    """Renews an attempt's lease while the attempt runs.

    `with LeaseKeeper(key): ...` renews every third of CHECKOUT_LEASE_SECONDS until
    the block ends, and never after it. The renewals are made by the process's one
    lease thread (`_LeaseRenewer`; a thread started and joined per checkout cost 0.13 ms
    of CPU, and almost every checkout ends before its first renewal), on its own
    database connection, closed after each round of renewals. A renewal that finds the
    key no longer ours stops renewing: the attempt's next write will see that too and
    give up.
    """

    def __init__(self, key: IdempotencyKey):
        self.key_id = key.pk
        self.owner = key.lease_owner
        self.interval = max(settings.CHECKOUT_LEASE_SECONDS / 3, 0.1)
        self.due = 0.0  # when to renew next (time.monotonic)

    def __enter__(self):
        self.due = time.monotonic() + self.interval
        _lease_renewer.add(self)
        return self

    def __exit__(self, *exc):
        _lease_renewer.remove(self)  # waits for a renewal of this lease under way

    def renew(self) -> bool:
        return bool(
            _KEY_RENEW.execute(
                _lease_end(), self.key_id, self.owner, IdempotencyKeyState.IN_PROGRESS
            )
        )

    def renew_quietly(self) -> bool:
        """Renew; False when the lease is lost (stop renewing it)."""
        try:
            if not self.renew():
                logger.warning("checkout lease lost", extra={"key_id": self.key_id})
                return False
        except DatabaseError:
            # The database is away (restarting?): try again next time; if the lease
            # runs out meanwhile, the attempt's next write finds out.
            logger.warning("checkout lease not renewed", extra={"key_id": self.key_id})
        return True


class _LeaseRenewer:
    """The thread of a process (started at its first lease) that renews the leases of
    the attempts running in it, each when it is due."""

    def __init__(self):
        self._changed = threading.Condition()
        self._leases: set[LeaseKeeper] = set()
        self._renewing: LeaseKeeper | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0

    def add(self, keeper: LeaseKeeper) -> None:
        with self._changed:
            self._leases.add(keeper)
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()  # a forked worker starts a thread of its own
                self._thread = threading.Thread(
                    target=self._run, name="checkout-lease", daemon=True
                )
                self._thread.start()
            self._changed.notify_all()

    def remove(self, keeper: LeaseKeeper) -> None:
        with self._changed:
            self._leases.discard(keeper)
            while self._renewing is keeper:
                self._changed.wait()

    def _run(self) -> None:
        while True:
            with self._changed:
                keeper = self._next_due()
                if keeper is None:
                    continue
                self._renewing = keeper
            try:
                try:
                    keep = keeper.renew_quietly()
                except Exception:  # a bug must not stop the other attempts' renewals
                    logger.exception(
                        "checkout lease renewal failed", extra={"key_id": keeper.key_id}
                    )
                    keep = True
                with self._changed:
                    keeper.due = time.monotonic() + keeper.interval
                    if not keep:
                        self._leases.discard(keeper)
                    if not any(other.due <= time.monotonic() for other in self._leases):
                        connections[ECOMMERCE_DB].close()  # nothing more due: no idle connection
            finally:
                with self._changed:
                    self._renewing = None
                    self._changed.notify_all()

    def _next_due(self) -> LeaseKeeper | None:
        """Under the lock: a lease due now, after waiting for one (None: look again)."""
        if not self._leases:
            self._changed.wait()
            return None
        keeper = min(self._leases, key=lambda lease: lease.due)
        wait = keeper.due - time.monotonic()
        if wait > 0:
            self._changed.wait(wait)
            return None
        return keeper


_lease_renewer = _LeaseRenewer()
