"""Generic helpers with no knowledge of credentials: text, deadlines, HTTP, subprocesses."""
