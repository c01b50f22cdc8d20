"""After the four services have migrated, every table is in the database its app belongs to.

Checked table by table on MariaDB: auth_db holds Django's contrib tables, the token
blacklist, accounts and the cache table; ecommerce_db holds catalog, carts and
orders; the only tables both have are each database's own django_migrations
(Django records every migration in every database, applied or skipped by the router)
and the outbox (auth's in auth_db, orders' in ecommerce_db).
"""

# outbox_: auth's and orders' outboxes (shopkit.outbox lives in the database of each
# service installing it).
AUTH_TABLE_PREFIXES = ("auth_", "django_", "token_blacklist_", "accounts_", "outbox_")
ECOMMERCE_TABLE_PREFIXES = ("catalog_", "carts_", "orders_", "outbox_")


def tables(shop, database):
    return {row[0] for row in shop.query(database, "SHOW TABLES")}


CACHE_TABLES = ("tienda_cache", "tienda_throttle")


def test_each_table_lives_in_its_apps_database(shop):
    auth_tables = tables(shop, "auth")
    ecommerce_tables = tables(shop, "ecommerce")

    assert auth_tables & ecommerce_tables == {"django_migrations", "outbox_outboxmessage"}
    for table in sorted(auth_tables):
        # The cache tables: the default one and the throttle counters' own.
        assert table.startswith(AUTH_TABLE_PREFIXES) or table in CACHE_TABLES, table
    for table in sorted(ecommerce_tables - {"django_migrations"}):
        assert table.startswith(ECOMMERCE_TABLE_PREFIXES), table

    # What each side must hold, so an empty database cannot pass the checks above.
    assert {
        "auth_user",
        "auth_group",
        "auth_permission",
        "django_session",
        "django_content_type",
        "django_admin_log",
        "token_blacklist_outstandingtoken",
        "accounts_address",
        "accounts_profile",
        "outbox_outboxmessage",
        *CACHE_TABLES,
    } <= auth_tables
    assert {
        "catalog_product",
        "catalog_category",
        "catalog_reservation",
        "carts_cart",
        "carts_cartline",
        "orders_order",
        "orders_orderline",
        "orders_statuschange",
        "orders_idempotencykey",
        "outbox_outboxmessage",
    } <= ecommerce_tables


def test_permissions_of_every_service_live_in_auth_db(shop):
    """Staff permissions for catalog and orders are rows in auth_db (one back-office)."""
    labels = {
        row[0]
        for row in shop.query(
            "auth",
            "SELECT DISTINCT ct.app_label FROM auth_permission p "
            "JOIN django_content_type ct ON ct.id = p.content_type_id",
        )
    }
    assert {"catalog", "carts", "orders", "accounts", "auth"} <= labels
