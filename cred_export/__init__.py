"""cred-export: AWS credentials for Claude Code on Amazon Bedrock."""

__version__ = "0.1.0"
