"""Carts in the back-office: read-only, for support (who has what, since when)."""

from django.contrib import admin

from carts.models import Cart, CartLine
from carts.selectors import cart_admin_queryset
from shopkit.admin import ReadOnlyAdminMixin


class CartLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CartLine
    fields = ("product_id", "quantity", "created_at", "updated_at")
    readonly_fields = fields
    extra = 0


@admin.register(Cart)
class CartAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "owner", "line_count", "version", "updated_at")
    list_filter = ("updated_at",)
    search_fields = ("user_id",)
    search_help_text = 'A customer\'s user id, or "guest".'
    fields = ("id", "owner", "version", "created_at", "updated_at")
    readonly_fields = fields
    ordering = ("-updated_at",)
    inlines = [CartLineInline]

    def get_queryset(self, request):
        return cart_admin_queryset()

    def get_search_results(self, request, queryset, search_term):
        """Exact user id (a number) or "guest"; anything else matches nothing."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.lower() == "guest":
            return queryset.filter(user_id__isnull=True), False
        if term.isascii() and term.isdigit():
            return queryset.filter(user_id=int(term)), False
        return queryset.none(), False

    @admin.display(description="owner")
    def owner(self, cart):
        return cart.owner_label

    @admin.display(description="lines", ordering="line_count")
    def line_count(self, cart):
        return cart.line_count
