"""Credential sources: one module per way of getting a chain's first credentials.

`base.py` says what a source is; `registry.py` lists them in order. Nothing outside this
package needs to know which kinds exist.
"""
