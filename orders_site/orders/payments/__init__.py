"""Payment providers behind one interface (base.py), chosen per payment by name.

`registry.payment_provider(name)` builds the providers named in settings.PAYMENT_PROVIDERS;
adding one is a class (a `PaymentProvider`) and one entry there. The rules (which order
may be paid, what a succeeded payment does, refunds) live in orders/services/payments.py,
never in a provider: a provider only talks to its payment service.
"""
