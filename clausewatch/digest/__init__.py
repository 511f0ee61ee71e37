"""Subscriptions and change digests: email (SMTP), signed webhooks and Atom feeds.

Everything private (subscribers, tokens, delivery log) lives in the private database
(:func:`clausewatch.config.private_db_path`), which the public Datasette never opens.
"""
from clausewatch.digest.feed import build_feed, subscription_feed, write_feeds
from clausewatch.digest.filters import SubscriptionError, matches
from clausewatch.digest.run import DigestError, DigestReport, run_digest
from clausewatch.digest.signup import confirm, subscribe, unsubscribe
from clausewatch.digest.tokens import find_by_token
from clausewatch.digest.webhook import sign, verify_signature

__all__ = ["DigestError", "DigestReport", "SubscriptionError", "build_feed", "confirm", "find_by_token", "matches",
           "run_digest", "sign", "subscribe", "subscription_feed", "unsubscribe", "verify_signature",
           "write_feeds"]
