"""Interactive sign-in building blocks: the browser, the loopback redirect, the machine-wide lock."""
