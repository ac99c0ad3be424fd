"""Market data and trading status for FIX sessions, from the simulated venue's books.

``requests`` and ``status`` hold the inbound handlers (QuickFIX threads, no venue access),
``publisher`` the subscriptions and their conflated updates, ``book`` what each subscriber
was sent, ``messages`` the W/X/Y builders, ``services`` the wiring into the engine. The
message formats are specified in ``specs/rules-of-engagement.md``.
"""
