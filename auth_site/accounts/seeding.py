"""The writes behind `manage.py seed_users`: permissions, staff groups, demo accounts.

Idempotent: rows are matched by natural keys (content type, codename, group
name, username), updated in place, never duplicated; seeded passwords are reset
to the given ones. Passwords are hashed once per distinct password, so a
thousand demo customers cost one hash.

Refresh tokens: the superuser and demo staff are saved one by one, so a reset
(always a new hash: a new salt) signs them out like any password change
(accounts.signals). Demo customers are reset by one UPDATE, which sends no
signal: they keep their tokens. Their password is public (dev mode only), so
revoking would protect nothing, and the query count stays fixed.
"""

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from accounts.models import Address
from accounts.selectors import username_for_email
from shopkit.routers import AUTH_DB

# The models of the other services (docs/internal-api.md), with Django's default
# verbose names: their apps are not installed here, so their permission rows
# are made by hand, exactly as Django would name them.
SERVICE_MODELS = {
    "catalog": {
        "category": "category",
        "product": "product",
        "reservation": "reservation",
        "reservationline": "reservation line",
        "taxrate": "tax rate",
    },
    "carts": {"cart": "cart", "cartline": "cart line"},
    "orders": {
        "order": "order",
        "orderline": "order line",
        "statuschange": "status change",
        "idempotencykey": "idempotency key",
        "shippingzone": "shipping zone",
        "shippingmethod": "shipping method",
        "shippingweighttier": "shipping weight tier",
        "payment": "payment",
        "refund": "refund",
        "paymentevent": "payment event",
    },
}
DEFAULT_ACTIONS = ("add", "change", "delete", "view")

CATALOG_MANAGERS = "Catalog managers"
ORDER_MANAGERS = "Order managers"


def _model_permissions(app_label: str) -> list[str]:
    return [
        f"{app_label}.{action}_{model}"
        for model in SERVICE_MODELS[app_label]
        for action in DEFAULT_ACTIONS
    ]


GROUP_PERMISSIONS = {
    CATALOG_MANAGERS: _model_permissions("catalog"),
    ORDER_MANAGERS: [
        *_model_permissions("orders"),
        "carts.view_cart",
        "carts.view_cartline",
        "catalog.view_product",
        "catalog.view_category",
        # Looking up the customer behind an order (auth's own models).
        "auth.view_user",
        "accounts.view_address",
        # The emails customers were sent (auth's outbox), and sending a failed one again.
        "outbox.view_outboxmessage",
        "outbox.change_outboxmessage",
    ],
}

DEMO_STAFF = {"catalog@tienda.local": CATALOG_MANAGERS, "orders@tienda.local": ORDER_MANAGERS}

_FIRST_NAMES = ["Ana", "Luis", "Marta", "Javier", "Lucía", "Pablo", "Elena", "Diego"]
_LAST_NAMES = ["García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Ruiz"]
_CITIES = [("Madrid", "28013"), ("Barcelona", "08002"), ("Sevilla", "41004"), ("Valencia", "46002")]


@dataclass(frozen=True)
class SeedResult:
    permissions: int
    groups: int
    staff: int
    customers_created: int
    customers_updated: int
    addresses_created: int


def _content_types() -> dict[tuple[str, str], ContentType]:
    def existing():
        return {
            (ct.app_label, ct.model): ct
            for ct in ContentType.objects.filter(app_label__in=list(SERVICE_MODELS))
        }

    content_types = existing()
    missing = [
        ContentType(app_label=app_label, model=model)
        for app_label, models in SERVICE_MODELS.items()
        for model in models
        if (app_label, model) not in content_types
    ]
    if missing:
        # ignore_conflicts: another service's migrate may be creating the same rows.
        ContentType.objects.bulk_create(missing, ignore_conflicts=True)
        content_types = existing()
    return content_types


def permissions_seed() -> dict[str, Permission]:
    """Content types and the four default permissions of every model of the other services.

    Returns them by name ("catalog.add_product"). A handful of queries, however many models.
    """
    content_types = _content_types()

    def existing():
        return {
            f"{p.content_type.app_label}.{p.codename}": p
            for p in Permission.objects.filter(
                content_type__in=list(content_types.values())
            ).select_related("content_type")
        }

    permissions = existing()
    missing = [
        Permission(
            content_type=content_types[app_label, model],
            codename=f"{action}_{model}",
            name=f"Can {action} {verbose_name}",
        )
        for app_label, models in SERVICE_MODELS.items()
        for model, verbose_name in models.items()
        for action in DEFAULT_ACTIONS
        if f"{app_label}.{action}_{model}" not in permissions
    ]
    if missing:
        Permission.objects.bulk_create(missing, ignore_conflicts=True)
        permissions = existing()
    return permissions


def groups_seed(permissions: dict[str, Permission]) -> dict[str, Group]:
    """The staff groups, each with exactly its permissions."""
    local_names = {
        name for names in GROUP_PERMISSIONS.values() for name in names if name not in permissions
    }
    if local_names:  # auth's own models: their rows come from auth_site's migrate
        permissions = {
            **permissions,
            **{
                f"{p.content_type.app_label}.{p.codename}": p
                for p in Permission.objects.select_related("content_type").filter(
                    content_type__app_label__in={n.split(".")[0] for n in local_names},
                    codename__in={n.split(".")[1] for n in local_names},
                )
            },
        }
    groups = {}
    for name, permission_names in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([permissions[p] for p in permission_names])
        groups[name] = group
    return groups


def _account_seed(
    *, email: str, password_hash: str, is_staff: bool, is_superuser: bool, first_name: str = ""
) -> User:
    user, _ = User.objects.update_or_create(
        username=username_for_email(email),
        defaults={
            "email": email,
            "password": password_hash,
            "first_name": first_name,
            "is_active": True,
            "is_staff": is_staff,
            "is_superuser": is_superuser,
        },
    )
    return user


def _customer_email(number: int) -> str:
    return f"customer{number}@example.com"


def _customer(number: int, password_hash: str) -> User:
    return User(
        username=_customer_email(number),
        email=_customer_email(number),
        first_name=_FIRST_NAMES[number % len(_FIRST_NAMES)],
        last_name=_LAST_NAMES[number % len(_LAST_NAMES)],
        password=password_hash,
        is_active=True,
        is_staff=False,
        is_superuser=False,
    )


def _customer_address(user: User, number: int) -> Address:
    city, postal_code = _CITIES[number % len(_CITIES)]
    return Address(
        user=user,
        full_name=f"{user.first_name} {user.last_name}",
        line1=f"Calle Mayor {number}",
        city=city,
        postal_code=postal_code,
        country="ES",
        phone=f"+34600{number:06d}",  # E.164, as address_save stores it
    )


def customers_seed(*, count: int, password: str) -> tuple[int, int, int]:
    """customer1@example.com … customer<count>@example.com, one address each.

    Returns (created, reset, addresses created). A fixed number of queries, whatever
    the count: bulk inserts, and one UPDATE that resets every existing customer
    (without signals: their refresh tokens stay valid, see the module docstring).
    """
    password_hash = make_password(password)
    wanted = {_customer_email(n): _customer(n, password_hash) for n in range(1, count + 1)}
    existing = list(User.objects.filter(username__in=list(wanted)))
    User.objects.filter(pk__in=[user.pk for user in existing]).update(
        password=password_hash, is_active=True, is_staff=False, is_superuser=False
    )
    renamed = []  # someone edited a demo customer's name or email: put it back
    for user in existing:
        seeded = wanted.pop(user.username)
        seeded_names = (seeded.email, seeded.first_name, seeded.last_name)
        if (user.email, user.first_name, user.last_name) != seeded_names:
            user.email, user.first_name, user.last_name = seeded_names
            renamed.append(user)
    User.objects.bulk_update(renamed, ["email", "first_name", "last_name"], batch_size=500)
    User.objects.bulk_create(wanted.values(), batch_size=500)

    # MySQL's bulk_create returns no ids: read the customers back once.
    numbers = {_customer_email(n): n for n in range(1, count + 1)}
    customers = User.objects.filter(username__in=list(numbers)).only(
        "id", "username", "first_name", "last_name"
    )
    with_address = set(Address.objects.filter(user__in=customers).values_list("user_id", flat=True))
    addresses = [
        _customer_address(user, numbers[user.username])
        for user in customers
        if user.id not in with_address
    ]
    Address.objects.bulk_create(addresses, batch_size=500)
    return len(wanted), len(existing), len(addresses)


def users_seed(
    *,
    superuser_email: str,
    superuser_password: str,
    staff_password: str | None = None,
    customers: int = 0,
    customer_password: str | None = None,
) -> SeedResult:
    """Everything seed_users makes, in one transaction on auth_db.

    Demo staff (catalog@ / orders@tienda.local) only when `staff_password` is given;
    demo customers only when `customers` > 0 (then `customer_password` is required).
    """
    with transaction.atomic(using=AUTH_DB):
        permissions = permissions_seed()
        groups = groups_seed(permissions)
        _account_seed(
            email=superuser_email,
            password_hash=make_password(superuser_password),
            is_staff=True,
            is_superuser=True,
        )
        staff = 0
        if staff_password is not None:
            staff_hash = make_password(staff_password)
            for email, group_name in DEMO_STAFF.items():
                member = _account_seed(
                    email=email, password_hash=staff_hash, is_staff=True, is_superuser=False
                )
                member.groups.set([groups[group_name]])
                member.user_permissions.clear()
                staff += 1
        created = updated = addresses = 0
        if customers > 0:
            created, updated, addresses = customers_seed(
                count=customers, password=customer_password
            )
    return SeedResult(
        permissions=len(permissions),
        groups=len(groups),
        staff=staff,
        customers_created=created,
        customers_updated=updated,
        addresses_created=addresses,
    )
