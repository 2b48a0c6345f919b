"""The light modules the cache-hit path is made of: standard library only, no json, re or datetime."""
