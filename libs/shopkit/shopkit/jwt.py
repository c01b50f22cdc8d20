"""Stateless JWT verification for catalog, cart and orders.

Tokens are RS256, signed by auth_site only. The other services verify them with
the public key (JWT_PUBLIC_KEY) or the JWKS document (JWKS_URL, cached by PyJWT),
with no database query and no call to auth per request: the user is a
`ShopTokenUser` built from the claims (simplejwt's JWTStatelessUserAuthentication
with TOKEN_USER_CLASS pointing here).
"""

from rest_framework_simplejwt.models import TokenUser


class ShopTokenUser(TokenUser):
    """The user behind an access token, permissions included (claim `perms`).

    `perms` holds Django permission names ("catalog.change_product") granted to a
    staff member, so DRF's DjangoModelPermissions works without a database.
    """

    @property
    def email(self) -> str:
        return self.token.get("email", "")

    @property
    def is_superuser(self) -> bool:
        return bool(self.token.get("is_superuser", False))

    @property
    def is_active(self) -> bool:
        return True  # auth never issues a token to an inactive user

    def get_all_permissions(self, obj=None) -> set:
        return set(self.token.get("perms", []))

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_active and (self.is_superuser or perm in self.get_all_permissions())

    def has_perms(self, perm_list, obj=None) -> bool:
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, module) -> bool:
        return self.is_superuser or any(
            p.startswith(module + ".") for p in self.get_all_permissions()
        )
