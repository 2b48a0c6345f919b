"""`python -m cred_export` runs the same entry point as the console script."""

from cred_export.entry import main

if __name__ == "__main__":
    main()
