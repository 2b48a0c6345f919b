"""The bundle's entry script: the console script's entry point and nothing more.

Keep it this small: everything imported here runs on every call, before the cache-hit path.
"""

from cred_export.entry import main

main()
