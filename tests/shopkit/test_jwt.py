"""Stateless verification: the service trusts exactly the tokens auth would issue."""

import time

import jwt
import pytest

from shopkit.keys import key_id, read_pem
from tests.support.databases import BOTH_DATABASES
from tests.support.keys import key_pair
from tests.support.problems import assert_problem
from tests.support.tokens import as_alg_none, mint_access_token, with_flipped_signature_byte


def whoami(api_client, token):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client.get("/probe/whoami/")


@pytest.mark.django_db(databases=BOTH_DATABASES)
def test_valid_token_gives_a_user_without_touching_the_database(
    api_client, django_assert_num_queries
):
    token = mint_access_token(
        user_id=7, email="ana@example.com", perms=["catalog.change_product"], is_staff=True
    )
    with django_assert_num_queries(0):
        response = whoami(api_client, token)
    assert response.status_code == 200
    assert response.json() == {
        "user_id": 7,
        "email": "ana@example.com",
        "is_staff": True,
        "can_change_product": True,
    }


def test_permissions_come_only_from_the_claim(api_client):
    token = mint_access_token(user_id=7, is_staff=True, perms=["orders.change_order"])
    assert whoami(api_client, token).json()["can_change_product"] is False


@pytest.mark.parametrize(
    "make_bad_token",
    [
        pytest.param(
            lambda: with_flipped_signature_byte(mint_access_token(user_id=1)),
            id="flipped-signature",
        ),
        pytest.param(lambda: as_alg_none(mint_access_token(user_id=1)), id="alg-none"),
        pytest.param(lambda: mint_access_token(user_id=1, key_name="intruder"), id="other-key"),
        pytest.param(lambda: mint_access_token(user_id=1, lifetime=-60), id="expired"),
        pytest.param(
            lambda: mint_access_token(user_id=1, token_type="refresh"), id="refresh-as-access"
        ),
        pytest.param(
            lambda: mint_access_token(user_id=1, issuer="someone-else"), id="wrong-issuer"
        ),
        pytest.param(lambda: "not-a-jwt", id="garbage"),
    ],
)
def test_bad_tokens_are_refused_with_401(api_client, make_bad_token):
    response = whoami(api_client, make_bad_token())
    assert_problem(response, 401, "token_not_valid")


def test_internal_endpoints_need_the_service_credential(api_client, service_api_client):
    assert api_client.get("/internal/probe/").status_code == 403
    staff = mint_access_token(user_id=1, is_staff=True, is_superuser=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {staff}")
    assert api_client.get("/internal/probe/").status_code == 403
    api_client.credentials(HTTP_X_SERVICE_TOKEN="wrong")
    assert api_client.get("/internal/probe/").status_code == 403
    assert service_api_client.get("/internal/probe/").status_code == 200


# Correctly signed, oddly typed: each once answered 500 or counted as superuser.
ODD_CLAIMS = {
    "user-id-string": {"user_id": "abc"},
    "user-id-numeric-string": {"user_id": "7"},
    "user-id-float": {"user_id": 7.0},
    "user-id-bool": {"user_id": True},
    "user-id-zero": {"user_id": 0},
    "user-id-huge": {"user_id": 2**70},
    "user-id-null": {"user_id": None},
    "user-id-list": {"user_id": [7]},
    "exp-1e20": {"exp": 1e20},
    "exp-huge-int": {"exp": 10**20},
    "exp-float": {"exp": 4102444800.5},
    "iat-string": {"iat": "yesterday"},
    "is-staff-string": {"is_staff": "false"},
    "is-superuser-string": {"is_superuser": "false"},
    "is-superuser-int": {"is_superuser": 1},
    "perms-string": {"perms": "catalog.change_product"},
    "perms-of-numbers": {"perms": [1, 2]},
    "perms-dict": {"perms": {"catalog.change_product": True}},
    "email-number": {"email": 42},
    "jti-number": {"jti": 42},
    "email-verified-string": {"email_verified": "true"},
    "email-verified-int": {"email_verified": 1},
    "language-number": {"language": 1},
    "language-long": {"language": "x" * 100},
}


@pytest.mark.parametrize("claims", ODD_CLAIMS.values(), ids=ODD_CLAIMS.keys())
def test_signed_tokens_with_odd_claims_are_refused_with_401(api_client, claims):
    signed = jwt.decode(mint_access_token(user_id=7), options={"verify_signature": False})
    response = whoami(api_client, resign({**signed, **claims}))
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "token_not_valid"


def test_a_token_without_user_id_is_refused_with_401(api_client):
    token = mint_access_token(user_id=7)
    claims = jwt.decode(token, options={"verify_signature": False})
    del claims["user_id"]
    response = whoami(api_client, resign(claims))
    assert response.status_code == 401


def resign(claims: dict) -> str:
    private_path, public_path = key_pair("signing")
    return jwt.encode(
        claims,
        read_pem(str(private_path)),
        algorithm="RS256",
        headers={"kid": key_id(read_pem(str(public_path)))},
    )


class TestVerifiedTokensAreKept:
    """A token this process verified is answered from memory, never with weaker checks."""

    @pytest.fixture(autouse=True)
    def nothing_kept(self):
        from shopkit import jwt as shop_jwt

        shop_jwt.forget_verified_tokens()
        yield shop_jwt
        shop_jwt.forget_verified_tokens()

    def test_a_second_request_does_not_verify_the_signature_again(
        self, api_client, monkeypatch, nothing_kept
    ):
        from rest_framework_simplejwt.state import token_backend

        token = mint_access_token(user_id=7)
        assert whoami(api_client, token).json()["user_id"] == 7
        calls = []
        decode = token_backend.decode
        monkeypatch.setattr(
            token_backend, "decode", lambda *a, **k: calls.append(1) or decode(*a, **k)
        )
        assert whoami(api_client, token).json()["user_id"] == 7
        assert calls == []
        assert list(nothing_kept._verified_tokens) == [token.encode()]

    def test_another_text_is_verified_in_full(self, api_client, nothing_kept):
        token = mint_access_token(user_id=7)
        assert whoami(api_client, token).status_code == 200
        # One character more or less is another token: refused, not found among the kept.
        assert_problem(whoami(api_client, with_flipped_signature_byte(token)), 401)
        assert_problem(whoami(api_client, token[:-1]), 401)
        assert list(nothing_kept._verified_tokens) == [token.encode()]

    def test_a_kept_token_is_checked_in_full_again_once_it_expires(
        self, api_client, monkeypatch, nothing_kept
    ):
        token = mint_access_token(user_id=7, lifetime=60)
        assert whoami(api_client, token).status_code == 200
        # An hour later (by the clock the kept tokens and PyJWT/simplejwt read).
        later = time.time() + 3600
        monkeypatch.setattr(nothing_kept.time, "time", lambda: later)
        from datetime import UTC, datetime

        import jwt.api_jwt

        class Later(datetime):
            @classmethod
            def now(cls, tz=None):
                return datetime.fromtimestamp(later, tz or UTC)

        monkeypatch.setattr(jwt.api_jwt, "datetime", Later)
        assert_problem(whoami(api_client, token), 401)

    def test_the_kept_tokens_are_bounded(self, api_client, monkeypatch, nothing_kept):
        monkeypatch.setattr(nothing_kept, "VERIFIED_TOKENS_KEPT", 2)
        tokens = [mint_access_token(user_id=user_id) for user_id in (1, 2, 3)]
        for token in tokens:
            assert whoami(api_client, token).status_code == 200
        assert list(nothing_kept._verified_tokens) == [t.encode() for t in tokens[1:]]
