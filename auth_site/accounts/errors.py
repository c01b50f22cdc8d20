"""Machine-readable error codes of the auth service (the `code` of its problem responses)."""

from enum import StrEnum


class AccountsErrorCode(StrEnum):
    EMAIL_TAKEN = "email_taken"
    INVALID_CREDENTIALS = "invalid_credentials"
    TOKEN_NOT_VALID = "token_not_valid"  # simplejwt's code: the same at every service
    ACCOUNT_INACTIVE = "account_inactive"
    WRONG_PASSWORD = "wrong_password"
    ADDRESS_NOT_FOUND = "address_not_found"
    ADDRESS_LIMIT_REACHED = "address_limit_reached"
    RESET_LINK_INVALID = "reset_link_invalid"
    VERIFICATION_LINK_INVALID = "verification_link_invalid"
