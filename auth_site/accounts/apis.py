"""Views of the auth API: parse input, call one service or selector, shape the output."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.errors import AccountsErrorCode
from accounts.selectors import access_revocations_recent, address_get, address_list
from accounts.serializers import (
    AcceptedSerializer,
    AddressSerializer,
    CountrySerializer,
    EmailedLinkInputSerializer,
    InternalAddressSerializer,
    JwksSerializer,
    MeSerializer,
    MeUpdateInputSerializer,
    PasswordChangeInputSerializer,
    PasswordResetConfirmInputSerializer,
    PasswordResetInputSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    TokenObtainInputSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from accounts.services import (
    address_create,
    address_delete,
    address_update,
    email_verify,
    password_reset_confirm,
    password_reset_request,
    token_logout,
    token_pair_obtain,
    token_pair_refresh,
    user_change_password,
    user_register,
    user_update,
)
from accounts.throttling import (
    EmailChangeThrottle,
    PasswordResetThrottle,
    RegisterThrottle,
    SignInFailures,
)
from accounts.tokens import jwks
from shopkit.address import country_names
from shopkit.errors import ApplicationError
from shopkit.permissions import IsServiceCaller
from shopkit.schema import problem_responses

JWKS_MAX_AGE = 300  # seconds the other services and proxies may cache the key set
COUNTRIES_MAX_AGE = 86400  # the list changes with a release (django-countries), not by day


# No access token needed, nor looked at: an expired one must not get in the way.
class PublicApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if response.status_code == status.HTTP_401_UNAUTHORIZED:
            response.setdefault("WWW-Authenticate", 'Bearer realm="api"')
        return response


class RegisterApi(PublicApi):
    throttle_classes = [*APIView.throttle_classes, RegisterThrottle]

    @extend_schema(
        tags=["account"],
        summary="Create a customer account",
        request=RegisterInputSerializer,
        responses={201: UserSerializer, **problem_responses(400, 429)},
    )
    def post(self, request):
        serializer = RegisterInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenObtainApi(PublicApi):
    @extend_schema(
        tags=["tokens"],
        summary="Sign in: an access and a refresh token",
        description="Failed attempts are counted per email and per client IP; "
        "while either count is full every attempt gets 429.",
        request=TokenObtainInputSerializer,
        responses={200: TokenPairSerializer, **problem_responses(400, 401, 429)},
    )
    def post(self, request):
        serializer = TokenObtainInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        failures = SignInFailures(request, email=serializer.validated_data["email"])
        failures.check()
        try:
            pair = token_pair_obtain(**serializer.validated_data, request=request)
        except ApplicationError:
            failures.record_failure()
            raise
        return Response(pair)


class TokenRefreshApi(PublicApi):
    @extend_schema(
        tags=["tokens"],
        summary="Rotate a refresh token: a new pair; the old refresh token is dead",
        request=RefreshInputSerializer,
        responses={200: TokenPairSerializer, **problem_responses(400, 401)},
    )
    def post(self, request):
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(token_pair_refresh(refresh=serializer.validated_data["refresh"]))


class LogoutApi(PublicApi):
    @extend_schema(
        tags=["tokens"],
        summary="Sign out: the refresh token is blacklisted",
        description="The refresh token is the credential; an expired access token does not matter.",
        request=RefreshInputSerializer,
        responses={204: None, **problem_responses(400, 401)},
    )
    def post(self, request):
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token_logout(refresh=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    throttle_classes = [*APIView.throttle_classes, EmailChangeThrottle]

    @extend_schema(
        tags=["account"],
        summary="The signed-in user",
        responses={200: MeSerializer, **problem_responses(401)},
    )
    def get(self, request):
        return Response(MeSerializer(request.user).data)

    @extend_schema(
        tags=["account"],
        summary="Change name or email (the email is also the login)",
        description="Email changes are limited per user and per client address "
        "(THROTTLE_EMAIL_CHANGE_RATE): their answer tells whether an account uses the email.",
        request=MeUpdateInputSerializer,
        responses={200: MeSerializer, **problem_responses(400, 401, 429)},
    )
    def patch(self, request):
        serializer = MeUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_update(user=request.user, **serializer.validated_data)
        return Response(MeSerializer(user).data)


class PasswordChangeApi(APIView):
    @extend_schema(
        tags=["account"],
        summary="Change the password; every refresh token of the user is revoked",
        description="A wrong old password counts as a failed sign-in of the user's email.",
        request=PasswordChangeInputSerializer,
        responses={204: None, **problem_responses(400, 401, 429)},
    )
    def post(self, request):
        serializer = PasswordChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        failures = SignInFailures(request, email=request.user.email)
        failures.check()
        try:
            user_change_password(user=request.user, **serializer.validated_data)
        except ApplicationError as exc:
            if exc.code == AccountsErrorCode.WRONG_PASSWORD:
                failures.record_failure()
            raise
        return Response(status=status.HTTP_204_NO_CONTENT)


PASSWORD_RESET_ACCEPTED = (
    "If an account uses this email, a link to reset its password is on its way. "
    "It works once and expires."
)


class PasswordResetApi(PublicApi):
    throttle_classes = [*APIView.throttle_classes, PasswordResetThrottle]

    @extend_schema(
        tags=["account"],
        summary="Forgot the password: email a single-use reset link",
        description="Always 202 with the same body, whether or not an account uses the "
        "email (nothing tells who has an account). The link goes to STOREFRONT_URL"
        "/password-reset?uid=...&token=... and expires after PASSWORD_RESET_TIMEOUT. "
        "Requests are limited per email and per client address.",
        request=PasswordResetInputSerializer,
        responses={202: AcceptedSerializer, **problem_responses(400, 429)},
    )
    def post(self, request):
        serializer = PasswordResetInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_request(email=serializer.validated_data["email"])
        return Response({"detail": PASSWORD_RESET_ACCEPTED}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmApi(PublicApi):
    @extend_schema(
        tags=["account"],
        summary="Set a new password with the emailed link's uid and token",
        description="The password validators run; every refresh token of the user is "
        "revoked (signed out everywhere). The link works once: 400 reset_link_invalid "
        "for a used, expired or altered one.",
        request=PasswordResetConfirmInputSerializer,
        responses={204: None, **problem_responses(400)},
    )
    def post(self, request):
        serializer = PasswordResetConfirmInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_confirm(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerifyApi(PublicApi):
    @extend_schema(
        tags=["account"],
        summary="Verify the email with the emailed link's uid and token",
        description="Sent on sign-up and on every email change. Works once: 400 "
        "verification_link_invalid for a used, expired or altered link, or one sent to an "
        "email the account no longer has. Access tokens carry `email_verified` from "
        "their next refresh.",
        request=EmailedLinkInputSerializer,
        responses={204: None, **problem_responses(400)},
    )
    def post(self, request):
        serializer = EmailedLinkInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        email_verify(**serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AddressListApi(GenericAPIView):
    serializer_class = AddressSerializer  # for the pagination helpers and the schema
    filter_backends = []

    @extend_schema(
        summary="The user's saved addresses (paginated)",
        # A (status, media type) key like the problems' own, so drf-spectacular
        # still sees the 200 as the main response (a list: paginated, page params).
        responses={
            (200, "application/json"): AddressSerializer(many=True),
            **problem_responses(401),
        },
    )
    def get(self, request):
        page = self.paginate_queryset(address_list(user_id=request.user.pk))
        return self.get_paginated_response(AddressSerializer(page, many=True).data)

    @extend_schema(
        summary="Save an address",
        request=AddressSerializer,
        responses={201: AddressSerializer, **problem_responses(400, 401)},
    )
    def post(self, request):
        serializer = AddressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        address = address_create(user=request.user, **serializer.validated_data)
        return Response(AddressSerializer(address).data, status=status.HTTP_201_CREATED)


class AddressDetailApi(APIView):
    @extend_schema(
        summary="One saved address",
        responses={200: AddressSerializer, **problem_responses(401, 404)},
    )
    def get(self, request, address_id: int):
        address = address_get(user_id=request.user.pk, address_id=address_id)
        return Response(AddressSerializer(address).data)

    @extend_schema(
        summary="Change some fields of a saved address",
        request=AddressSerializer(partial=True),
        responses={200: AddressSerializer, **problem_responses(400, 401, 404)},
    )
    def patch(self, request, address_id: int):
        address = address_get(user_id=request.user.pk, address_id=address_id)
        serializer = AddressSerializer(address, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        address = address_update(address=address, **serializer.validated_data)
        return Response(AddressSerializer(address).data)

    @extend_schema(
        summary="Delete a saved address", responses={204: None, **problem_responses(401, 404)}
    )
    def delete(self, request, address_id: int):
        address_delete(address=address_get(user_id=request.user.pk, address_id=address_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class JwksApi(PublicApi):
    @extend_schema(
        operation_id="jwks_retrieve",
        tags=["tokens"],
        summary="The public keys access tokens are signed with (JWKS)",
        responses={200: JwksSerializer},
    )
    def get(self, request):
        return Response(jwks(), headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"})


class CountryListApi(PublicApi):
    @extend_schema(
        operation_id="countries_list",
        summary="The countries an address may name: ISO code and name",
        description="Every ISO 3166-1 alpha-2 code an address accepts, with its name in "
        "the shop's language, sorted by name. Not paginated; cacheable for a day.",
        responses={200: CountrySerializer(many=True)},
    )
    def get(self, request):
        return Response(
            country_names(), headers={"Cache-Control": f"public, max-age={COUNTRIES_MAX_AGE}"}
        )


class InternalAddressApi(APIView):
    """For orders: a user's saved address, to copy into an order."""

    authentication_classes = []
    permission_classes = [IsServiceCaller]

    @extend_schema(responses={200: InternalAddressSerializer, **problem_responses(403, 404)})
    def get(self, request, user_id: int, address_id: int):
        address = address_get(user_id=user_id, address_id=address_id)
        return Response(InternalAddressSerializer(address).data)


class InternalRevocationListApi(APIView):
    """For cart and orders (shopkit.revocation polls it every few seconds): the users whose
    access tokens issued before `not_before` (epoch seconds) must be refused."""

    authentication_classes = []
    permission_classes = [IsServiceCaller]

    @extend_schema(responses={200: OpenApiTypes.OBJECT, **problem_responses(403)})
    def get(self, request):
        now = timezone.now()
        revocations = access_revocations_recent(now=now).values_list("user_id", "not_before")
        return Response(
            {
                "generated_at": int(now.timestamp()),
                "revocations": [
                    {"user_id": user_id, "not_before": int(not_before.timestamp())}
                    for user_id, not_before in revocations
                ],
            },
            headers={"Cache-Control": "no-store"},
        )
