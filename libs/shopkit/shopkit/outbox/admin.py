"""Staff's view of the outbox: what was sent, what failed and why, and a resend action."""

from django.contrib import admin, messages

from shopkit.outbox.models import OutboxMessage
from shopkit.outbox.services import outbox_resend


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "recipient_list", "subject", "status", "attempts", "created_at"]
    list_filter = ["status", "kind", "language"]
    search_fields = ["subject", "kind", "recipients"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    # The messages are a record: staff read them and may resend, never edit them.
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    @admin.display(description="to")
    def recipient_list(self, obj: OutboxMessage) -> str:
        return ", ".join(obj.recipients)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(
        description="Send the selected failed or sent messages again",
        permissions=["change"],  # viewers see the messages, changers resend them
    )
    def resend(self, request, queryset):
        count = outbox_resend(message_ids=list(queryset.values_list("pk", flat=True)))
        skipped = queryset.count() - count
        self.message_user(request, f"{count} message(s) queued to be sent again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} message(s) skipped: still pending or being sent.",
                messages.WARNING,
            )
