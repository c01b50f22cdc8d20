"""Request and response shapes of the auth API (explicit fields, nothing a client may not set)."""

from django.conf import settings
from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Address
from accounts.selectors import profile_of
from shopkit.address import ADDRESS_FIELDS, PostalAddressSerializer

# Bounds on what a client may send (a password hasher should not chew on megabytes).
EMAIL_MAX_LENGTH = User._meta.get_field("username").max_length  # the email is the username
PASSWORD_MAX_LENGTH = 128
TOKEN_MAX_LENGTH = 2048
LINK_UID_MAX_LENGTH = 32  # base64 of a 64-bit id
LINK_TOKEN_MAX_LENGTH = 128  # Django's reset tokens are about 40 characters


def language_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=settings.SHOP_LANGUAGES,
        help_text="The language of the emails the customer gets.",
        **kwargs,
    )


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
    language = language_field(required=False)


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "date_joined"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer):
    language = serializers.SerializerMethodField()
    email_verified = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "language",
            "email_verified",
            "is_staff",
            "date_joined",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=settings.SHOP_LANGUAGES))
    def get_language(self, user: User) -> str:
        return profile_of(user).language

    @extend_schema_field(
        serializers.BooleanField(help_text="Whether the current email was verified (a link).")
    )
    def get_email_verified(self, user: User) -> bool:
        return profile_of(user).email_verified


class MeUpdateInputSerializer(serializers.Serializer):
    """Only these change through the API; staff flags and the username never do."""

    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH, required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    language = language_field(required=False)


class PasswordResetInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=EMAIL_MAX_LENGTH)


class AcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True)


class EmailedLinkInputSerializer(serializers.Serializer):
    """The two query parameters of an emailed link, as the storefront posts them back."""

    uid = serializers.CharField(max_length=LINK_UID_MAX_LENGTH)
    token = serializers.CharField(max_length=LINK_TOKEN_MAX_LENGTH)


class PasswordResetConfirmInputSerializer(EmailedLinkInputSerializer):
    new_password = PasswordField()


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
