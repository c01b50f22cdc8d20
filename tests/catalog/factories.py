"""factory-boy factories for the catalog's models (rows in ecommerce_db)."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from catalog.models import Category, Product, Reservation, ReservationLine


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda category: category.name.lower().replace(" ", "-"))
    parent = None


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.LazyAttribute(lambda product: product.sku.lower())
    description = ""
    category = None
    price = Decimal("10.00")
    tax_rate = Decimal("0.21")
    stock = 10
    is_active = True


class ReservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reservation

    reference = factory.Sequence(lambda n: f"T-FACTORY{n:04d}")
    state = Reservation.State.RESERVED
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=15))


class ReservationLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReservationLine

    reservation = factory.SubFactory(ReservationFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
    unit_price = factory.LazyAttribute(lambda line: line.product.price)
    tax_rate = factory.LazyAttribute(lambda line: line.product.tax_rate)
    sku = factory.LazyAttribute(lambda line: line.product.sku)
    name = factory.LazyAttribute(lambda line: line.product.name)
