"""What the commands do, each flow in one module: export, login, status, clear, the MFA session.

Flows work on resolved chains and reach sources only through `Root` (see `cred_export.sources`).
"""
