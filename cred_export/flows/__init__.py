"""What the commands do, each flow in one module: export, login, status, clear, setup, and the
Bedrock tokens for `bedrock-token` and Claude Desktop's helper.

Flows work on resolved chains and reach sources only through `Root` (see `cred_export.sources`).
"""
