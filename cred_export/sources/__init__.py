"""Credential sources: one module per way of getting a chain's first credentials.

`base.py` says what a source is; `registry.py` lists them in order. Outside this package only
`chain.py` names a few modules here: two sources, for botocore's own rules about role profiles
(a role profile with `credential_source` or a web identity is botocore's to assume; one that
names itself as its `source_profile` signs with its own keys), the environment's keys (which win
only when no profile was named), and `mfa.py`, which is no source: it wraps a chain's root in
its MFA session. Everything else goes through `Root`.
"""
