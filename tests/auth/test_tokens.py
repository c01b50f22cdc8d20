"""Tokens as the other services see them: RS256, kid from the JWKS, the agreed claims."""

import base64
import json
import time
from datetime import timedelta

import jwt
import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from accounts.tokens import AccessToken, RefreshToken
from shopkit.keys import key_id, read_pem
from tests.auth.factories import PASSWORD, UserFactory
from tests.support.databases import BOTH_DATABASES
from tests.support.keys import key_pair
from tests.support.problems import assert_problem
from tests.support.tokens import as_alg_none, mint_access_token, with_flipped_signature_byte

pytestmark = pytest.mark.django_db(databases=BOTH_DATABASES)

API = "/api/v1/auth"


def sign_in(api_client, user):
    response = api_client.post(f"{API}/token/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()


def jwks_key(api_client):
    response = api_client.get(f"{API}/.well-known/jwks.json")
    assert response.status_code == 200
    (jwk,) = response.json()["keys"]
    return jwk, jwt.PyJWK(jwk)


def test_access_token_verifies_with_the_published_key(api_client, user):
    access = sign_in(api_client, user)["access"]
    jwk, key = jwks_key(api_client)

    header = jwt.get_unverified_header(access)
    assert header["alg"] == "RS256"
    assert header["kid"] == jwk["kid"] == key_id(read_pem(str(key_pair()[1])))
    claims = jwt.decode(access, key.key, algorithms=["RS256"], issuer="tienda-auth")
    assert claims["exp"] - claims["iat"] <= 900
    assert claims["token_type"] == "access"
    assert claims["user_id"] == user.pk  # an int, as the other services compare it
    assert claims["email"] == user.email
    assert claims["is_staff"] is False and claims["is_superuser"] is False
    assert claims["perms"] == []
    assert claims["jti"]


def test_refresh_token_carries_only_the_user_id_and_has_a_kid(api_client, user):
    refresh = sign_in(api_client, user)["refresh"]
    _, key = jwks_key(api_client)
    claims = jwt.decode(refresh, key.key, algorithms=["RS256"], issuer="tienda-auth")
    assert claims["token_type"] == "refresh"
    assert not {"email", "perms", "is_staff"} & set(claims)
    assert jwt.get_unverified_header(refresh)["kid"]


def test_jwks_is_public_and_cacheable(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer expired.garbage.token")
    response = api_client.get(f"{API}/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age=300" in response["Cache-Control"]
    (jwk,) = response.json()["keys"]
    assert {"kty", "n", "e", "kid", "alg", "use"} <= set(jwk)
    assert "d" not in jwk  # never the private part


def test_staff_permissions_travel_in_the_access_token(api_client):
    catalog_type, _ = ContentType.objects.get_or_create(app_label="catalog", model="product")
    change_product, _ = Permission.objects.get_or_create(
        content_type=catalog_type,
        codename="change_product",
        defaults={"name": "Can change product"},
    )
    auth_type = ContentType.objects.get(app_label="auth", model="user")
    group = Group.objects.create(name="Catalog managers")
    group.permissions.add(change_product)
    staff = UserFactory(is_staff=True)
    staff.groups.add(group)
    staff.user_permissions.add(Permission.objects.get(content_type=auth_type, codename="view_user"))

    claims = jwt.decode(sign_in(api_client, staff)["access"], options={"verify_signature": False})
    # Only the permissions the other services check, sorted; auth's own stay home.
    assert claims["perms"] == ["catalog.change_product"]
    assert claims["is_staff"] is True


def test_customers_carry_no_permissions_even_if_granted(api_client):
    catalog_type, _ = ContentType.objects.get_or_create(app_label="catalog", model="product")
    permission, _ = Permission.objects.get_or_create(
        content_type=catalog_type,
        codename="change_product",
        defaults={"name": "Can change product"},
    )
    customer = UserFactory()
    customer.user_permissions.add(permission)
    claims = jwt.decode(
        sign_in(api_client, customer)["access"], options={"verify_signature": False}
    )
    assert claims["perms"] == []


def test_refresh_builds_the_access_token_from_the_current_user(api_client, user):
    refresh = sign_in(api_client, user)["refresh"]
    user.is_staff = True
    user.email = "promoted@example.com"
    user.save()
    response = api_client.post(f"{API}/token/refresh/", {"refresh": refresh})
    claims = jwt.decode(response.json()["access"], options={"verify_signature": False})
    assert (claims["email"], claims["is_staff"]) == ("promoted@example.com", True)


# --- tokens auth refuses ------------------------------------------------------------------


def _expired(user):
    token = AccessToken.for_user(user)
    token.set_iat(at_time=token.current_time - timedelta(minutes=30))
    token.set_exp(from_time=token.current_time - timedelta(minutes=30))
    return str(token)


BAD_TOKENS = {
    "flipped-signature": lambda user: with_flipped_signature_byte(str(AccessToken.for_user(user))),
    "alg-none": lambda user: as_alg_none(str(AccessToken.for_user(user))),
    "other-key": lambda user: mint_access_token(user_id=user.pk, key_name="intruder"),
    "expired": _expired,
    "refresh-as-access": lambda user: str(RefreshToken.for_user(user)),
    "wrong-issuer": lambda user: mint_access_token(user_id=user.pk, issuer="someone-else"),
    "garbage": lambda user: "not-a-jwt",
}


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_bad_tokens_are_refused_with_401(api_client, user, make_token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(user)}")
    response = api_client.get(f"{API}/me/")
    assert_problem(response, 401, "token_not_valid")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_minted_like_auth_does_is_accepted(api_client, user):
    """The shared test helper and auth agree on the token shape (same key, same claims)."""
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {mint_access_token(user_id=user.pk)}")
    assert api_client.get(f"{API}/me/").status_code == 200


def test_inactive_users_access_token_is_refused_at_auth(api_client, user):
    token = str(AccessToken.for_user(user))
    user.is_active = False
    user.save()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.get(f"{API}/me/")
    assert response.status_code == 401
    assert "inactive" in response.json()["detail"]


def test_access_token_lifetime_is_fifteen_minutes(user):
    token = AccessToken.for_user(user)
    assert 0 < token["exp"] - int(time.time()) <= 900


# --- key rotation --------------------------------------------------------------------


@pytest.fixture
def previous_key_accepted(settings):
    """auth configured as after a rotation: the old key's public half still accepted."""
    from accounts import tokens

    _, previous_public = key_pair("previous")
    settings.JWT_PREVIOUS_PUBLIC_KEYS = [read_pem(str(previous_public))]
    tokens.signing_backend.cache_clear()
    tokens.jwks.cache_clear()
    yield read_pem(str(previous_public))
    tokens.signing_backend.cache_clear()
    tokens.jwks.cache_clear()


def test_a_token_signed_by_an_unannounced_key_is_refused(api_client, user):
    old = mint_access_token(user_id=user.pk, key_name="previous")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {old}")
    assert api_client.get(f"{API}/me/").status_code == 401


def test_after_a_rotation_the_previous_key_is_published_and_still_accepted(
    api_client, user, previous_key_accepted
):
    keys = api_client.get(f"{API}/.well-known/jwks.json").json()["keys"]
    current = key_id(read_pem(str(key_pair()[1])))
    assert [k["kid"] for k in keys] == [current, key_id(previous_key_accepted)]

    old = mint_access_token(user_id=user.pk, key_name="previous")
    assert jwt.get_unverified_header(old)["kid"] == keys[1]["kid"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {old}")
    response = api_client.get(f"{API}/me/")
    assert response.status_code == 200
    assert response.json()["email"] == user.email

    # New tokens are signed by the current key only.
    api_client.credentials()
    fresh = sign_in(api_client, user)["access"]
    assert jwt.get_unverified_header(fresh)["kid"] == current
    # A token claiming the previous kid but signed by another key is still refused.
    forged = mint_access_token(user_id=user.pk, key_name="intruder")
    _header, payload, signature = forged.split(".")
    forged_header = base64.urlsafe_b64encode(
        json.dumps({"alg": "RS256", "typ": "JWT", "kid": keys[1]["kid"]}).encode()
    ).rstrip(b"=")
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {forged_header.decode()}.{payload}.{signature}"
    )
    assert api_client.get(f"{API}/me/").status_code == 401
