"""Real parts for the tests: moto, an STS front proxy, a Secret Service, and a CLI runner."""
