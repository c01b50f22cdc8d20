from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save, pre_save


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib.auth.models import User

        from accounts.signals import (
            user_credentials_compare,
            user_deleted_revoke,
            user_refresh_tokens_revoke,
        )

        # A new password or a deactivation, from any path, ends the user's sessions.
        pre_save.connect(
            user_credentials_compare, sender=User, dispatch_uid="accounts.credentials_compare"
        )
        post_save.connect(
            user_refresh_tokens_revoke, sender=User, dispatch_uid="accounts.refresh_tokens_revoke"
        )
        post_delete.connect(
            user_deleted_revoke, sender=User, dispatch_uid="accounts.deleted_revoke"
        )
