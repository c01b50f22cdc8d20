"""Request and response shapes of the auth API (explicit fields, nothing a client may not set)."""

from django.contrib.auth.models import User
from rest_framework import serializers

from accounts.models import Address
from shopkit.address import ADDRESS_FIELDS, PostalAddressSerializer

# Bounds on what a client may send (a password hasher should not chew on megabytes).
EMAIL_MAX_LENGTH = User._meta.get_field("username").max_length  # the email is the username
PASSWORD_MAX_LENGTH = 128
TOKEN_MAX_LENGTH = 2048


class PasswordField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", PASSWORD_MAX_LENGTH)
        super().__init__(
            write_only=True, trim_whitespace=False, style={"input_type": "password"}, **kwargs
        )


class RegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)
    password = PasswordField()
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "date_joined"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "is_staff", "date_joined"]
        read_only_fields = fields


class MeUpdateInputSerializer(serializers.Serializer):
    """Only these change through the API; staff flags and the username never do."""

    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH, required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class PasswordChangeInputSerializer(serializers.Serializer):
    old_password = PasswordField()
    new_password = PasswordField()


class TokenObtainInputSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = PasswordField()


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField(max_length=TOKEN_MAX_LENGTH)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True, help_text="RS256 JWT, valid 15 minutes.")
    refresh = serializers.CharField(
        read_only=True, help_text="Use once at token/refresh/; rotated on every refresh."
    )


class AddressSerializer(PostalAddressSerializer, serializers.ModelSerializer):
    """A saved address: the shared address shape (shopkit.address) plus its id and dates."""

    class Meta:
        model = Address
        fields = ["id", *ADDRESS_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class InternalAddressSerializer(PostalAddressSerializer, serializers.ModelSerializer):
    """The address as orders copies it into an order (docs/internal-api.md)."""

    class Meta:
        model = Address
        fields = ["id", *ADDRESS_FIELDS]
        read_only_fields = fields


class CountrySerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True, help_text="ISO 3166-1 alpha-2, e.g. ES")
    name = serializers.CharField(read_only=True, help_text="In the shop's language.")


class JwksSerializer(serializers.Serializer):
    keys = serializers.ListField(
        child=serializers.DictField(), help_text="RSA public keys as JWKs (kty, n, e, kid, alg)."
    )
