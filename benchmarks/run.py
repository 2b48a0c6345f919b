"""Median wall time of cred-export's cache hits and misses next to their baselines.

Run with the project's own interpreter, so `python -c pass` is the same Python the
console script uses:

    .venv/bin/python benchmarks/run.py [--runs 25] [--warmups 3] [--json results.json]
                                       [--bundle dist/bundle/cred-export]

Everything runs on 127.0.0.1 and is started and stopped here: moto's STS behind the test
harness's counting proxy, and (when dbus-daemon and gnome-keyring-daemon exist) a private
Secret Service. Each scenario has its own sandboxed HOME. Scenarios are timed round-robin,
so drift in machine load touches all of them alike. `--bundle` adds the self-contained
one-dir bundle (packaging/linux/build-bundle.sh) as a cache-hit row beside the console script.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from harness import secret_service  # noqa: E402
from harness.sandbox import EXECUTABLE, Sandbox  # noqa: E402
from harness.sts_proxy import StsProxy  # noqa: E402

BARE_SCRIPT = Path(__file__).with_name("bare_assume_role.py")
PROFILE = "role1"
ROLE_ARN = "arn:aws:iam::123456789012:role/role1"
RUN_TIMEOUT = 60.0
START_TIMEOUT = 30.0


@dataclass
class Scenario:
    name: str
    label: str
    argv: list[str]
    env: dict[str, str]
    sts_calls: int  # AssumeRole calls each run must make (0: must be a cache hit)
    samples: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000


@dataclass
class Budget:
    label: str
    subject: str
    baseline: str
    limit: float


BUDGETS = (
    Budget("file-store hit vs python -c pass", "hit_file", "python_pass", 1.5),
    Budget("bundled file-store hit vs python -c pass", "hit_bundle_file", "python_pass", 1.5),
    Budget("Secret Service hit vs python -c pass", "hit_secret_service", "python_pass", 2.5),
    Budget("bundled Secret Service hit vs python -c pass", "hit_bundle_secret_service", "python_pass", 2.5),
    Budget("login hit vs export hit (file store)", "login_hit_file", "hit_file", 1.2),
    Budget("bedrock-token hit vs export hit (file)", "token_hit_file", "hit_file", 1.5),
    Budget("login hit vs export hit (Secret Service)", "login_hit_secret_service", "hit_secret_service", 1.2),
    Budget(
        "bedrock-token hit vs export hit (Sec. Svc.)", "token_hit_secret_service", "hit_secret_service", 1.5
    ),
    Budget("cache miss vs bare boto3 assume_role", "miss_assume_role", "bare_assume_role", 1.3),
)
# What Claude Code runs at every start besides the export, and what Claude Desktop's helper runs.
LOGIN = ["login", "--profile", PROFILE]
TOKEN = ["bedrock-token", "--profile", PROFILE, "--region", "us-east-1"]


class BenchmarkError(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=25, help="timed runs per scenario (default 25)")
    parser.add_argument("--warmups", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--check", action="store_true", help="exit 2 when a budget is not met")
    parser.add_argument(
        "--bundle",
        metavar="PATH",
        type=Path,
        help="also time a one-dir bundle's cache hit (its directory or executable)",
    )
    args = parser.parse_args()
    if args.runs < 1 or args.warmups < 0:
        parser.error("--runs must be at least 1 and --warmups at least 0")
    if not Path(EXECUTABLE).exists():
        parser.error(f"{EXECUTABLE} not found: run this with the project's venv interpreter")
    bundle = bundle_executable(args.bundle) if args.bundle else None
    if args.bundle and bundle is None:
        parser.error(f"--bundle {args.bundle}: no cred-export executable there")
    cred_exports = {EXECUTABLE} | ({bundle} if bundle else set())
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request log lines

    try:
        with contextlib.ExitStack() as stack:
            temp = tempfile.TemporaryDirectory(prefix="cred-export-bench-")
            root = Path(stack.enter_context(temp))
            proxy = start_sts(stack)
            keyring_env, note = start_secret_service(stack, root)
            scenarios = build_scenarios(root, proxy, keyring_env, bundle)
            sts = StsCounter(proxy)
            for scenario in scenarios:
                prepare(scenario, sts, cred_exports)
            measure(scenarios, sts, args.runs, args.warmups)
    except BenchmarkError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1

    results = {s.name: s for s in scenarios}
    verdicts = judge(results)
    report(scenarios, verdicts, note, args)
    if args.json:
        write_json(Path(args.json), scenarios, verdicts, note, args)
    return 2 if args.check and any(v["met"] is False for v in verdicts) else 0


# --- services ----------------------------------------------------------------------------


def start_sts(stack: contextlib.ExitStack) -> StsProxy:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    bounded(server.start, START_TIMEOUT, "moto server start")
    stack.callback(bounded, server.stop, START_TIMEOUT, "moto server stop")
    proxy = StsProxy(server.get_host_and_port()[1])
    stack.callback(proxy.close)
    return proxy


def start_secret_service(stack: contextlib.ExitStack, root: Path) -> tuple[dict | None, str | None]:
    if not secret_service.AVAILABLE:
        return None, "Secret Service rows skipped: no dbus-daemon or gnome-keyring-daemon"
    try:
        service = secret_service.SecretService(root / "secret-service")
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        return None, f"Secret Service rows skipped: it did not start ({exc})"
    stack.callback(service.stop)
    return service.env, None


def bounded(function: Callable[[], object], timeout: float, what: str) -> None:
    worker = threading.Thread(target=function, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise BenchmarkError(f"{what} did not finish within {timeout:g} s")


# --- scenarios ---------------------------------------------------------------------------


def sandbox(
    root: Path, name: str, proxy: StsProxy, settings: str | None, extra: dict | None = None
) -> Sandbox:
    box = Sandbox(root / name, proxy.url, extra)
    box.role_chain(depth=1)
    if settings is not None:
        box.write_settings(settings)
    return box


def bundle_executable(path: Path) -> str | None:
    """The bundle's executable, given the bundle directory or the executable itself."""
    executable = path / "cred-export" if path.is_dir() else path
    return str(executable.resolve()) if executable.is_file() else None


def build_scenarios(
    root: Path, proxy: StsProxy, keyring_env: dict | None, bundle: str | None = None
) -> list[Scenario]:
    file_box = sandbox(root, "file", proxy, 'cache = "file"\n')
    miss_box = sandbox(root, "miss", proxy, 'cache = "none"\n')
    export = [EXECUTABLE, "--profile", PROFILE]
    bare_env = {
        **miss_box.env,
        "AWS_ACCESS_KEY_ID": miss_box.key_id,
        "AWS_SECRET_ACCESS_KEY": miss_box.secret,
        "ROLE_ARN": ROLE_ARN,
    }
    login_box = sandbox(root, "login", proxy, 'cache = "file"\n')
    token_box = sandbox(root, "token", proxy, 'cache = "file"\n')
    scenarios = [
        Scenario("python_pass", "python -c pass", [sys.executable, "-c", "pass"], file_box.env, 0),
        Scenario("hit_file", "cache hit, file store", export, file_box.env, 0),
        Scenario("login_hit_file", "login hit, file store", [EXECUTABLE, *LOGIN], login_box.env, 0),
        Scenario("token_hit_file", "bedrock-token hit, file store", [EXECUTABLE, *TOKEN], token_box.env, 0),
    ]
    if bundle is not None:
        bundle_box = sandbox(root, "bundle", proxy, 'cache = "file"\n')
        scenarios.append(
            Scenario(
                "hit_bundle_file",
                "cache hit, file store (bundle)",
                [bundle, "--profile", PROFILE],
                bundle_box.env,
                0,
            )
        )
    if keyring_env is not None:
        keyring_box = sandbox(root, "keyring", proxy, None, keyring_env)  # default: keyring
        naive = "import keyring; keyring.get_password('cred-export','x')"
        login_keyring_box = sandbox(root, "login-keyring", proxy, None, keyring_env)
        token_keyring_box = sandbox(root, "token-keyring", proxy, None, keyring_env)
        scenarios += [
            Scenario("hit_secret_service", "cache hit, Secret Service", export, keyring_box.env, 0),
            Scenario(
                "login_hit_secret_service",
                "login hit, Secret Service",
                [EXECUTABLE, *LOGIN],
                login_keyring_box.env,
                0,
            ),
            Scenario(
                "token_hit_secret_service",
                "bedrock-token hit, Secret Service",
                [EXECUTABLE, *TOKEN],
                token_keyring_box.env,
                0,
            ),
            Scenario(
                "keyring_naive",
                "python: keyring.get_password",
                [sys.executable, "-c", naive],
                keyring_box.env,
                0,
            ),
        ]
        if bundle is not None:
            bundle_keyring_box = sandbox(root, "bundle-keyring", proxy, None, keyring_env)
            scenarios.append(
                Scenario(
                    "hit_bundle_secret_service",
                    "cache hit, Secret Service (bundle)",
                    [bundle, "--profile", PROFILE],
                    bundle_keyring_box.env,
                    0,
                )
            )
    scenarios += [
        Scenario("miss_assume_role", "cache miss, 1 AssumeRole", export, miss_box.env, 1),
        Scenario(
            "bare_assume_role", "bare boto3 assume_role", [sys.executable, str(BARE_SCRIPT)], bare_env, 1
        ),
        Scenario(
            "bare_assume_role_botocore",
            "bare botocore assume_role (info)",
            [sys.executable, str(BARE_SCRIPT)],
            {**bare_env, "BARE_CLIENT": "botocore"},
            1,
        ),
    ]
    return scenarios


def run_once(scenario: Scenario, argv: list[str] | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            argv or scenario.argv,
            env=scenario.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=RUN_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise BenchmarkError(f"{scenario.label}: no exit within {RUN_TIMEOUT:g} s") from None


class StsCounter:
    """AssumeRole calls the proxy saw since the previous look."""

    def __init__(self, proxy: StsProxy) -> None:
        self.proxy = proxy
        self.seen = proxy.calls["AssumeRole"]

    def new_calls(self) -> int:
        now = self.proxy.calls["AssumeRole"]
        calls, self.seen = now - self.seen, now
        return calls


def checked(
    scenario: Scenario,
    sts: StsCounter,
    completed: subprocess.CompletedProcess,
    expect_calls: int | None = None,
) -> subprocess.CompletedProcess:
    """`completed`, after checking its exit code and the AssumeRole calls it made."""
    calls = sts.new_calls()
    if completed.returncode != 0:
        raise BenchmarkError(f"{scenario.label}: exit {completed.returncode}:\n{completed.stderr}")
    expect = scenario.sts_calls if expect_calls is None else expect_calls
    if calls != expect:
        raise BenchmarkError(f"{scenario.label}: made {calls} AssumeRole calls, expected {expect}")
    return completed


def prepare(scenario: Scenario, sts: StsCounter, cred_exports: set[str]) -> None:
    """Fill the cache for hit scenarios, and prove each scenario does what its name says."""
    if scenario.argv[0] in cred_exports:
        if scenario.sts_calls == 0:
            checked(scenario, sts, run_once(scenario), expect_calls=1)  # the miss that fills it
        debug = checked(scenario, sts, run_once(scenario, [*scenario.argv, "--debug"]))
        file_hit = "cache hit for profile role1 (file)"
        keyring_hit = "cache hit for profile role1 (keyring-secret-service)"
        wanted = {
            "hit_file": file_hit,
            "login_hit_file": file_hit,
            "token_hit_file": file_hit,
            "hit_bundle_file": file_hit,
            "hit_bundle_secret_service": keyring_hit,
            "hit_secret_service": keyring_hit,
            "login_hit_secret_service": keyring_hit,
            "token_hit_secret_service": keyring_hit,
        }.get(scenario.name, "STS AssumeRole")
        if wanted not in debug.stderr:
            raise BenchmarkError(f"{scenario.label}: --debug lacks {wanted!r}:\n{debug.stderr}")
    elif scenario.name == "keyring_naive":
        probe = "import keyring; print(type(keyring.get_keyring()).__module__)"
        backend = subprocess.run(
            [sys.executable, "-c", probe],
            env=scenario.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
        if backend.stdout.strip() != "keyring.backends.SecretService":
            found = backend.stdout.strip() or backend.stderr.strip()
            raise BenchmarkError(f"{scenario.label}: keyring chose {found}")


def measure(scenarios: list[Scenario], sts: StsCounter, runs: int, warmups: int) -> None:
    warned: set[str] = set()
    for round_ in range(warmups + runs):
        for scenario in scenarios:
            start = time.perf_counter()
            completed = run_once(scenario)
            elapsed = time.perf_counter() - start
            checked(scenario, sts, completed)
            if completed.stderr and scenario.name not in warned:
                warned.add(scenario.name)
                print(
                    f"note: {scenario.label} wrote to stderr: {completed.stderr.strip()[:300]}",
                    file=sys.stderr,
                )
            if round_ >= warmups:
                scenario.samples.append(elapsed)


# --- results -----------------------------------------------------------------------------


def judge(results: dict[str, Scenario]) -> list[dict]:
    verdicts = []
    for budget in BUDGETS:
        subject, baseline = results.get(budget.subject), results.get(budget.baseline)
        verdict: dict = {"budget": budget.label, "limit": budget.limit, "ratio": None, "met": None}
        if subject and baseline:
            ratio = subject.median_ms / baseline.median_ms
            verdict.update(ratio=round(ratio, 3), met=ratio <= budget.limit)
        verdicts.append(verdict)
    return verdicts


def report(scenarios: list[Scenario], verdicts: list[dict], note: str | None, args) -> None:  # type: ignore[no-untyped-def]
    base = scenarios[0].median_ms
    print(
        f"cred-export benchmark: median of {args.runs} runs after {args.warmups} warm-ups, "
        f"Python {platform.python_version()} on {platform.machine()} {platform.system()}"
    )
    print()
    print(f"{'scenario':<36} {'median ms':>10} {'min ms':>8} {'x pass':>8}")
    for s in scenarios:
        print(f"{s.label:<36} {s.median_ms:>10.1f} {min(s.samples) * 1000:>8.1f} {s.median_ms / base:>8.2f}")
    if note:
        print(f"({note})")
    print()
    print(f"{'budget':<46} {'limit':>7} {'actual':>8}  result")
    for v in verdicts:
        actual = f"{v['ratio']:.2f}x" if v["ratio"] is not None else "-"
        result = {True: "met", False: "NOT met", None: "skipped"}[v["met"]]
        print(f"{v['budget']:<46} {v['limit']:>6.2f}x {actual:>8}  {result}")


def write_json(
    path: Path,
    scenarios: list[Scenario],
    verdicts: list[dict],
    note: str | None,  # type: ignore[no-untyped-def]
    args,
) -> None:
    base = scenarios[0].median_ms
    document = {
        "runs": args.runs,
        "warmups": args.warmups,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "note": note,
        "scenarios": {
            s.name: {
                "label": s.label,
                "median_ms": round(s.median_ms, 3),
                "min_ms": round(min(s.samples) * 1000, 3),
                "max_ms": round(max(s.samples) * 1000, 3),
                "ratio_to_python_pass": round(s.median_ms / base, 3),
                "samples_ms": [round(x * 1000, 3) for x in s.samples],
            }
            for s in scenarios
        },
        "budgets": verdicts,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
