"""Local stand-ins for the providers, started by the tests on loopback (port 0: any free port)."""
