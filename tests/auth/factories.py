"""Factories for the auth service's tests (users as the API makes them: username = email)."""

import factory
from django.contrib.auth.models import User

from accounts.models import Address

PASSWORD = "Lantern-Quarry-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"Shopper{n}@Example.com")
    username = factory.LazyAttribute(lambda user: user.email.lower())
    first_name = "Ana"
    last_name = "Torres"
    password = factory.django.Password(PASSWORD)


class StaffFactory(UserFactory):
    is_staff = True


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    full_name = "Ana Torres"
    line1 = factory.Sequence(lambda n: f"Calle Mayor {n}")
    city = "Madrid"
    postal_code = "28013"
    country = "ES"
    phone = "+34600000000"  # E.164, as addresses are stored
