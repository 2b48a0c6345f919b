"""Fast in-process tests of the core: no servers, no subprocesses, no sleeps (`pytest tests/unit`)."""
