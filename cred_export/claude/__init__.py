"""Claude Code and Claude Desktop wiring: their settings, the IAM policy, the installed path."""
