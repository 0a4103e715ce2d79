"""Email: verification, unsubscribe links, the outbox and its delivery worker."""
