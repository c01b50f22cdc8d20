"""Public API: /api/v1/auth/"""

from django.urls import path

from accounts import apis

urlpatterns = [
    path("register/", apis.RegisterApi.as_view(), name="register"),
    path("token/", apis.TokenObtainApi.as_view(), name="token"),
    path("token/refresh/", apis.TokenRefreshApi.as_view(), name="token-refresh"),
    path("logout/", apis.LogoutApi.as_view(), name="logout"),
    path("me/", apis.MeApi.as_view(), name="me"),
    path("password/change/", apis.PasswordChangeApi.as_view(), name="password-change"),
    path("password/reset/", apis.PasswordResetApi.as_view(), name="password-reset"),
    path(
        "password/reset/confirm/",
        apis.PasswordResetConfirmApi.as_view(),
        name="password-reset-confirm",
    ),
    path("email/verify/", apis.EmailVerifyApi.as_view(), name="email-verify"),
    path("addresses/", apis.AddressListApi.as_view(), name="address-list"),
    path("addresses/<int:address_id>/", apis.AddressDetailApi.as_view(), name="address-detail"),
    path("countries/", apis.CountryListApi.as_view(), name="country-list"),
    path(".well-known/jwks.json", apis.JwksApi.as_view(), name="jwks"),
]
