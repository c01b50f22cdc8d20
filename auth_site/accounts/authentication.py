"""How auth authenticates its own API calls (kept apart from accounts.tokens: DRF loads
this class while importing its views, before accounts' selectors can be imported)."""

from django.contrib.auth.models import User
from django.db.models import OuterRef, Subquery
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings

from accounts.models import AccessRevocation
from shopkit.jwt import ShopJWTAuthentication
from shopkit.revocation import TokenRevoked


class AccountJWTAuthentication(ShopJWTAuthentication):
    """auth's own authentication: the user read from auth_db, its profile and access
    revocation in the same query. Inactive or deleted users are refused (simplejwt's rule), and so is
    a token issued before the user's last password change or deactivation, as cart
    and orders refuse it (shopkit.revocation)."""

    def get_user(self, validated_token):
        not_before = AccessRevocation.objects.filter(user_id=OuterRef("pk")).values("not_before")
        user = (
            User.objects.annotate(tokens_not_before=Subquery(not_before[:1]))
            .select_related("profile")  # me/ shows language and verification: no extra query
            .filter(pk=validated_token[api_settings.USER_ID_CLAIM])
            .first()
        )
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        revoked = user.tokens_not_before
        issued_at = validated_token.payload.get("iat")
        if revoked is not None and (issued_at is None or issued_at < int(revoked.timestamp())):
            raise TokenRevoked()
        return user
