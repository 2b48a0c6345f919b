"""`cred-export doctor`: checks from the configuration files to Bedrock, each with a fix.

One module per group of checks; `run.py` runs them in order and `report.py` documents the
verdicts and the `--json` document.
"""
