"""Waits between retries of background work: outbox deliveries and the privacy pass."""

from datetime import timedelta


def backoff(attempts, base_seconds, max_seconds):
    """Wait after the ``attempts``-th failure: base × 2^(attempts-1), capped at ``max_seconds``."""
    return timedelta(seconds=min(base_seconds * 2 ** (attempts - 1), max_seconds))
