"""Test support shared by the channel clients' tests and the outbox's: local provider servers
(:mod:`autocrm.channels.testing.servers`). Imported by tests only."""
