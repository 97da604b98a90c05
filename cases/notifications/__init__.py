"""Mail notices to staff: what is waiting for them, never what it is (the outbox)."""
