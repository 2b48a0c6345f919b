"""What `cred-export doctor` reports: one verdict per check, as text or as a JSON document.

The `--json` document (stable; new checks may be added, existing ids keep their meaning)::

    {
      "profile": "my-bedrock-profile",      # the profile the checks ran for
      "checks": [                            # always in the order of CHECK_IDS
        {
          "id": "config",                    # one of CHECK_IDS
          "verdict": "ok",                   # "ok" | "warn" | "fail" | "skip"
          "detail": "…",                     # one line: what was found
          "fix": null                        # one line for "warn"/"fail"; null for "ok"/"skip"
        }
      ],
      "ok": true                             # false when any check's verdict is "fail"
    }

"skip" means the check could not run because something it needs is missing: an earlier
check's result (credentials, a resolved profile, Bedrock's list) or an answer from AWS; its
detail says what. The exit code is 0 when `ok` is true (warnings allowed) and 1 otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cred_export.util.text import printable

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
VERDICTS = (OK, WARN, FAIL, SKIP)

CHECK_IDS = (
    "config",
    "profile",
    "keyring",
    "cache",
    "region",
    "environment",
    "credentials",
    "identity",
    "clock",
    "bedrock",
    "model",
    "claude-code",
    "startup",
    "desktop",
)

_ID_WIDTH = max(len(check_id) for check_id in CHECK_IDS) + 2


@dataclass(frozen=True)
class Check:
    id: str
    verdict: str
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        fix = printable(self.fix) if self.fix and self.verdict in (WARN, FAIL) else None
        return {"id": self.id, "verdict": self.verdict, "detail": printable(self.detail), "fix": fix}


def ok(check_id: str, detail: str) -> Check:
    return Check(check_id, OK, detail)


def warn(check_id: str, detail: str, fix: str) -> Check:
    return Check(check_id, WARN, detail, fix)


def fail(check_id: str, detail: str, fix: str) -> Check:
    return Check(check_id, FAIL, detail, fix)


def skip(check_id: str, why: str) -> Check:
    return Check(check_id, SKIP, why)


@dataclass(frozen=True)
class Report:
    profile: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return not self.failed()

    def failed(self) -> list[str]:
        return [check.id for check in self.checks if check.verdict == FAIL]

    def as_json(self) -> str:
        document = {
            "profile": self.profile,
            "checks": [check.as_dict() for check in self.checks],
            "ok": self.ok,
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

    def as_text(self) -> str:
        lines = [_line(check) for check in self.checks]
        lines.append(self.summary())
        return "\n".join(lines) + "\n"

    def summary(self) -> str:
        counts = ", ".join(f"{sum(c.verdict == v for c in self.checks)} {v}" for v in VERDICTS)
        if not self.ok:
            outcome = f"failed: {', '.join(self.failed())}"
        elif any(check.verdict == WARN for check in self.checks):
            outcome = "working, with warnings"
        else:
            outcome = "all good"
        return f"profile {self.profile}: {counts}: {outcome}"


def _line(check: Check) -> str:
    text = f"{check.verdict:<6}{check.id:<{_ID_WIDTH}}{check.detail}"
    if check.fix and check.verdict in (WARN, FAIL):
        text += f"; fix: {check.fix}"
    return printable(text)  # details quote services: no escape sequence reaches the terminal
