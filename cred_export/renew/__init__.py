"""Single-flight renewal: the lock, the renewal policy, and the cached-credential windows."""
