"""A browser that misbehaves as real ones do, for `BROWSER="python lingering_browser.py %s"`.

It writes to stdout and stderr, records which AWS secrets its environment holds, signs in like
tests/harness/browser.py, and then stays running (a browser started fresh exits when closed).
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from browser import visit

SECRETS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


def main() -> None:
    url = sys.argv[1]
    print("Opening in existing browser session.", flush=True)
    print("[1201/120000.000:ERROR:gpu_init.cc] some browser noise", file=sys.stderr, flush=True)
    log = os.environ.get("BROWSER_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"url": url, "secrets": [n for n in SECRETS if n in os.environ]}) + "\n")
    if not os.environ.get("BROWSER_DOES_NOTHING"):
        visit(url)
    time.sleep(float(os.environ.get("BROWSER_LINGER", "15")))


if __name__ == "__main__":
    main()
