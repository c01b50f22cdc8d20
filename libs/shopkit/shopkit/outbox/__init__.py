"""Transactional email through an outbox: a reusable Django app (`shopkit.outbox`).

A service that sends email adds "shopkit.outbox" to INSTALLED_APPS; its table lives
in that service's own database (shopkit.routers). Writers call
`shopkit.outbox.services.enqueue(...)` inside their own `transaction.atomic(using=...)`,
so the message exists exactly when the change that caused it was committed; the
`send_outbox` job delivers it later through the email backend of EMAIL_URL
(shopkit.outbox.config). Messages are rendered from templates staff can override
(shopkit.outbox.rendering). Nothing here is imported at package import time: the
settings base imports shopkit.outbox.config before Django is set up.
"""
