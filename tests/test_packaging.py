"""Packaging: the wheel and sdist, the one-dir bundle and the Debian package, built and run.

Each artifact is built once per session by the scripts under packaging/ (about a minute on
2 cores), into a temporary directory. The .deb is installed on this machine (root only)
and purged when this module's tests are done, which leaves the machine as it was found.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import posixpath
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from harness.require import require
from harness.sandbox import Result, Sandbox, assert_no_leak, learn_secrets, random_keys, remember_secret
from harness.sso_server import SsoServer
from harness.sts_proxy import StsProxy

from cred_export import __version__

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
BUILD_TIMEOUT = 1200
SYSTEM_CONFIG = Path("/etc/cred-export/config.toml")
INSTALLED = Path("/usr/bin/cred-export")
# What the bundle may take from the machine: the C library and the loader, nothing else.
SYSTEM_LIBRARIES = {
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "libpthread.so.0",
    "librt.so.1",
    "libutil.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
    "linux-vdso.so.1",
    "linux-gate.so.1",
}
# Never in the bundle: test tools, build tools, the test suite itself.
FOREIGN_MODULES = {
    "pytest",
    "_pytest",
    "moto",
    "hypothesis",
    "harness",
    "conftest",
    "tests",
    "test",
    "selenium",
    "signxml",
    "PyInstaller",
    "pip",
    "setuptools",
    "pkg_resources",
    "build",
}

# What a cache hit must not load (as tests/test_hit_path.py checks for the console script).
SLOW_PATH_MODULES = {"boto3", "botocore", "click", "keyring", "filelock", "configparser", "tomllib", "json"}

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="builds and runs Linux packages"),
    pytest.mark.timeout(BUILD_TIMEOUT),
]


def load_bundle_config() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundle_config", PACKAGING / "bundle" / "bundle_config.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(script: str, env: dict[str, str]) -> dict[str, Path]:
    """Run a packaging script; its `KIND: PATH` stdout lines, as {KIND: PATH}."""
    completed = subprocess.run(
        [str(PACKAGING / script)],
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert completed.returncode == 0, (
        f"{script} failed (exit {completed.returncode}):\n{completed.stderr[-6000:]}"
    )
    pairs = (line.partition(": ") for line in completed.stdout.splitlines())
    return {kind: Path(path) for kind, sep, path in pairs if sep}


def run(executable: Path | str, box: Sandbox, *args: str, env: dict[str, str] | None = None) -> Result:
    """Like `Sandbox.run`, for an executable other than the venv's console script."""
    completed = subprocess.run(
        [str(executable), *args],
        env={**box.env, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    result = Result(completed.returncode, completed.stdout, completed.stderr)
    learn_secrets(result.stdout)
    assert_no_leak(result.stderr)
    return result


def export_miss_then_hit(
    executable: Path | str, box: Sandbox, sts: StsProxy, env: dict[str, str] | None = None
) -> None:
    """A role-chain export fetches from STS once, then is served from the cache."""
    profile = box.role_chain(depth=2)
    before = sts.calls["AssumeRole"]
    first = run(executable, box, "--profile", profile, env=env)
    assert first.code == 0, first.stderr
    assert sts.calls["AssumeRole"] - before == 2
    second = run(executable, box, "--profile", profile, "--debug", env=env)
    assert second.code == 0, second.stderr
    assert second.credentials == first.credentials
    assert "cache hit for profile" in second.stderr
    assert sts.calls["AssumeRole"] - before == 2


# --- builds (once per session) ----------------------------------------------------------


def builds_with(python: str) -> bool:
    checker = [python, str(PACKAGING / "check_tools.py"), str(ROOT / "pyproject.toml")]
    return subprocess.run(checker, capture_output=True, timeout=60).returncode == 0


@pytest.fixture(scope="session")
def tools_python() -> str:
    """This interpreter when it has PyInstaller and build, else the scripts' own build/packaging-venv."""
    env = {k: v for k, v in os.environ.items() if k != "PACKAGING_PYTHON"}
    if builds_with(sys.executable):
        env["PACKAGING_PYTHON"] = sys.executable
    completed = subprocess.run(
        [str(PACKAGING / "tools-python.sh")],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip()


@pytest.fixture(scope="session")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("packaging")


@pytest.fixture(scope="session")
def build_env(tools_python: str, out_dir: Path) -> dict[str, str]:
    return {
        "PACKAGING_PYTHON": tools_python,
        "DIST_DIR": str(out_dir / "dist"),
        "WORK_DIR": str(out_dir / "work"),
    }


@pytest.fixture(scope="session")
def wheel_artifacts(build_env: dict[str, str]) -> dict[str, Path]:
    return run_script("build-wheel.sh", build_env)


@pytest.fixture(scope="session")
def bundle(build_env: dict[str, str]) -> Path:
    for tool in ("objdump", "strip", "ldd"):
        require(shutil.which(tool) is not None, f"{tool} is not installed (apt-get install binutils)")
    return run_script("linux/build-bundle.sh", build_env)["bundle"]


@pytest.fixture(scope="session")
def deb(bundle: Path, build_env: dict[str, str]) -> Path:
    require(shutil.which("dpkg-deb") is not None, "dpkg-deb is not installed (not a Debian-based system)")
    return run_script("debian/build-deb.sh", {**build_env, "BUNDLE_DIR": str(bundle)})["deb"]


@pytest.fixture(scope="session")
def forbidden_paths(out_dir: Path, tools_python: str) -> list[str]:
    """Paths of this build that must not appear inside any artifact."""
    prefix = subprocess.run(
        [tools_python, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True, timeout=60
    ).stdout.strip()
    return sorted({str(ROOT), str(out_dir), prefix} - {""})


# --- the bundle rules --------------------------------------------------------------------


def test_bundle_keeps_exactly_the_service_models_cred_export_and_botocore_use() -> None:
    config = load_bundle_config()
    source = "\n".join(path.read_text() for path in (ROOT / "cred_export").rglob("*.py"))
    used = set(re.findall(r'create_client\(\s*"([a-z0-9-]+)"', source))
    assert used and used <= config.KEEP_SERVICES, f"add {used - config.KEEP_SERVICES} to KEEP_SERVICES"
    assert config.keep_data("botocore/data/endpoints.json")
    assert config.keep_data("botocore/data/_retry.json")
    assert config.keep_data("botocore/data/sts/2011-06-15/service-2.json.gz")
    assert config.keep_data("botocore\\data\\sso-oidc\\2019-06-10\\service-2.json.gz")
    assert config.keep_data("certifi/cacert.pem")
    assert not config.keep_data("botocore/data/ec2/2016-11-15/service-2.json.gz")
    assert not config.keep_data("botocore/data/sts/2011-06-15/examples-1.json")
    assert not config.keep_runtime_hook("pyi_rth_inspect")
    assert config.keep_runtime_hook("pyi_rth_cryptography_openssl")
    assert "ctypes" in config.excludes("linux") and "ctypes" not in config.excludes("darwin")
    assert "keyring.backends.Windows" in config.hidden_imports("win32", (3, 11))


# --- wheel and sdist ---------------------------------------------------------------------


def test_wheel_holds_the_package_and_its_entry_point(wheel_artifacts: dict[str, Path]) -> None:
    wheel = wheel_artifacts["wheel"]
    assert wheel.name == f"cred_export-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        dist_info = f"cred_export-{__version__}.dist-info"
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
        metadata = archive.read(f"{dist_info}/METADATA").decode()
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "cred_export").rglob("*.py")}
    assert sources <= names
    assert {n.split("/")[0] for n in names} == {"cred_export", dist_info}
    assert re.search(r"^cred-export = cred_export\.entry:main$", entry_points, re.M)
    assert f"\nVersion: {__version__}\n" in metadata and "\nName: cred-export\n" in metadata


def test_sdist_holds_the_sources_and_no_local_files(wheel_artifacts: dict[str, Path]) -> None:
    sdist = wheel_artifacts["sdist"]
    top = f"cred_export-{__version__}"
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
    assert {"pyproject.toml", "README.md", "cred_export/entry.py", "cred_export/__init__.py"} <= names
    local = [n for n in names if re.search(r"(^|/)(\.venv|build|dist|__pycache__|\.git)(/|$)|\.pyc$", n)]
    assert not local, f"local files in the sdist: {local[:5]}"


def test_wheel_installs_and_exports(
    wheel_artifacts: dict[str, Path], sandbox: Sandbox, sts: StsProxy, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    install = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--no-deps",
        "--no-index",
        "--target",
        str(target),
    ]
    subprocess.run([*install, str(wheel_artifacts["wheel"])], check=True, capture_output=True, timeout=120)
    script = target / "bin" / "cred-export"
    env = {"PYTHONPATH": str(target)}  # the wheel's cred_export; its dependencies from this venv
    version = run(script, sandbox, "--version", env=env)
    assert version.code == 0 and version.stdout.strip() == f"cred-export, version {__version__}"
    export_miss_then_hit(script, sandbox, sts, env=env)


# --- the one-dir bundle ------------------------------------------------------------------


def test_bundle_reports_its_version(bundle: Path, sandbox: Sandbox) -> None:
    result = run(bundle / "cred-export", sandbox, "--version")
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == f"cred-export, version {__version__}"


def test_bundle_exports_assume_role_chain_miss_then_hit(
    bundle: Path, sandbox: Sandbox, sts: StsProxy
) -> None:
    export_miss_then_hit(bundle / "cred-export", sandbox, sts)


def test_bundle_caches_in_the_secret_service_miss_then_hit(
    bundle: Path, keyring_sandbox: Sandbox, sts: StsProxy
) -> None:
    """keyring's SecretService backend writes (slow path); jeepney reads it back (hit path)."""
    profile = keyring_sandbox.role_chain(depth=1)
    first = run(bundle / "cred-export", keyring_sandbox, "--profile", profile, "--debug")
    assert first.code == 0, first.stderr
    assert "Traceback" not in first.stderr and "warning" not in first.stderr
    second = run(bundle / "cred-export", keyring_sandbox, "--profile", profile, "--debug")
    assert second.code == 0, second.stderr
    assert second.credentials == first.credentials
    assert f"cache hit for profile {profile} (keyring-secret-service)" in second.stderr
    assert sts.calls["AssumeRole"] == 1
    assert not keyring_sandbox.cached_files()  # nothing fell back to the file store


def test_bundle_exports_static_keys_with_get_session_token(
    bundle: Path, sandbox: Sandbox, sts: StsProxy
) -> None:
    sandbox.write_credentials()
    result = run(bundle / "cred-export", sandbox, "--profile", "base", "--format", "process")
    assert result.code == 0, result.stderr
    assert result.json["Version"] == 1 and result.json["SessionToken"]
    assert sts.calls["GetSessionToken"] == 1


def test_bundle_renews_an_sso_token_and_fetches_role_credentials(
    bundle: Path, sso_sandbox: Sandbox, sso: SsoServer
) -> None:
    start_url = "https://corp.awsapps.com/start"
    sso_sandbox.write_aws_config(
        "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n"
        f"[sso-session corp]\nsso_start_url = {start_url}\nsso_region = us-east-1\n"
        "sso_registration_scopes = sso:account:access\n"
    )
    token = sso.seed_token(start_url=start_url, access_ttl=600)  # inside the renewal window
    cache = sso_sandbox.home / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    (cache / f"{hashlib.sha1(b'corp').hexdigest()}.json").write_text(json.dumps(token))  # the AWS CLI's name
    result = run(bundle / "cred-export", sso_sandbox, "--profile", "dev")
    assert result.code == 0, result.stderr
    assert sso.calls["CreateToken"] == 1 and sso.calls["GetRoleCredentials"] == 1  # SSO-OIDC, then SSO


def test_bundle_children_see_the_callers_library_path(bundle: Path, sandbox: Sandbox, tmp_path: Path) -> None:
    key_id, secret = random_keys()
    remember_secret(secret)
    document = {
        "Version": 1,
        "AccessKeyId": key_id,
        "SecretAccessKey": secret,
        "SessionToken": "token",
        "Expiration": "2099-01-01T00:00:00Z",
    }
    (tmp_path / "creds.json").write_text(json.dumps(document))
    helper = tmp_path / "process.sh"
    helper.write_text(f'#!/bin/sh\nenv >"{tmp_path}/child-env"\ncat "{tmp_path}/creds.json"\n')
    helper.chmod(0o755)
    sandbox.write_aws_config(f"[profile proc]\ncredential_process = {helper}\n")
    for inherited in (None, "/opt/callers/lib"):
        env = {"CRED_EXPORT_CACHE": "none", **({"LD_LIBRARY_PATH": inherited} if inherited else {})}
        result = run(bundle / "cred-export", sandbox, "--profile", "proc", env=env)
        assert result.code == 0, result.stderr
        child = dict(
            line.split("=", 1) for line in (tmp_path / "child-env").read_text().splitlines() if "=" in line
        )
        assert child.get("LD_LIBRARY_PATH") == inherited
        assert "LD_LIBRARY_PATH_ORIG" not in child


def test_bundle_cache_hit_loads_none_of_the_slow_path(bundle: Path, sandbox: Sandbox, tmp_path: Path) -> None:
    """The fast path stays fast inside the bundle: a hit opens no module of the slow path."""
    require(shutil.which("strace") is not None, "strace is not installed (apt-get install strace)")
    profile = sandbox.role_chain(depth=1)
    assert run(bundle / "cred-export", sandbox, "--profile", profile).code == 0  # fills the cache
    trace = tmp_path / "trace"
    command = ["strace", "-f", "-e", "trace=openat", "-o", str(trace), str(bundle / "cred-export")]
    traced = subprocess.run(
        [*command, "--profile", profile], env=sandbox.env, capture_output=True, text=True, timeout=60
    )
    require(traced.returncode == 0 or "ptrace" not in traced.stderr, "strace may not trace processes here")
    assert traced.returncode == 0, traced.stderr
    internal = f"{bundle / '_internal'}/"
    opened = re.findall(r'openat\([^"]*"([^"]+)", [^)]*\) = \d', trace.read_text())
    modules = {
        path[len(internal) :].split("/")[0].split(".")[0] for path in opened if path.startswith(internal)
    }
    assert "cred_export" in modules
    assert not modules & SLOW_PATH_MODULES, sorted(modules & SLOW_PATH_MODULES)


def test_bundle_carries_everything_but_libc(bundle: Path) -> None:
    internal = bundle / "_internal"
    needed: dict[str, set[str]] = {}
    for path in elf_files(bundle):
        listing = subprocess.run(
            ["ldd", str(path)],
            env={"LD_LIBRARY_PATH": str(internal)},
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        for name, where in ldd_entries(listing):
            if not where.startswith(str(bundle)):
                needed.setdefault(name, set()).add(path.name)
    assert set(needed) <= SYSTEM_LIBRARIES, {k: v for k, v in needed.items() if k not in SYSTEM_LIBRARIES}


def test_bundle_has_trimmed_botocore_data_and_no_foreign_modules(bundle: Path) -> None:
    config = load_bundle_config()
    data = bundle / "_internal" / "botocore" / "data"
    assert {p.name for p in data.iterdir() if p.is_dir()} == set(config.KEEP_SERVICES)
    assert {"endpoints.json", "partitions.json", "sdk-default-configuration.json", "_retry.json"} <= {
        p.name for p in data.iterdir()
    }
    modules = bundled_modules(bundle / "_internal")
    foreign = sorted(m for m in modules if FOREIGN_MODULES & set(m.split(".")))
    assert not foreign, f"test or build modules in the bundle: {foreign[:10]}"
    ours = {".".join(p.relative_to(ROOT).with_suffix("").parts) for p in (ROOT / "cred_export").rglob("*.py")}
    assert {m.removesuffix(".__init__") for m in ours} <= modules
    executable = (bundle / "cred-export").read_bytes()  # runtime hooks are named in its archive's index
    assert b"rthook_child_env" in executable
    assert not [hook for hook in config.UNNEEDED_RUNTIME_HOOKS if hook.encode() in executable]


# --- the Debian package ------------------------------------------------------------------


def dpkg_deb(*args: str) -> str:
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, check=True, timeout=120).stdout


def test_deb_control_fields_and_conffile(deb: Path) -> None:
    field = {
        name: dpkg_deb("--field", str(deb), name).strip() for name in ("Package", "Version", "Architecture")
    }
    assert deb.name == f"cred-export_{__version__}-1_{field['Architecture']}.deb"
    assert (field["Package"], field["Version"]) == ("cred-export", f"{__version__}-1")
    assert re.fullmatch(r"libc6 \(>= 2\.\d+\)", dpkg_deb("--field", str(deb), "Depends").strip())
    info = dpkg_deb("--info", str(deb))
    assert not re.search(r"^ (Pre-Depends|Recommends):", info, re.M)
    assert dpkg_deb("--info", str(deb), "conffiles").split() == [str(SYSTEM_CONFIG)]
    assert "opt/cred-export/cred-export" in dpkg_deb("--info", str(deb), "md5sums")
    postinst = dpkg_deb("--info", str(deb), "postinst")
    assert "managed-settings.json" in postinst and "awsCredentialExport" in postinst
    assert subprocess.run(["bash", "-n"], input=postinst, text=True, timeout=60).returncode == 0


def test_deb_files_owners_and_modes(deb: Path) -> None:
    with tarfile.open(fileobj=fsys_tar(deb)) as archive:
        members = {posixpath.normpath(m.name): m for m in archive.getmembers()}
        shipped_config = archive.extractfile(members["etc/cred-export/config.toml"]).read()  # type: ignore[union-attr]
    assert all((m.uname, m.gname, m.uid, m.gid) == ("root", "root", 0, 0) for m in members.values())
    tops = {name.split("/")[0] for name in members if name != "."}
    assert tops == {"opt", "usr", "etc"}
    assert {n for n in members if n.split("/")[0] == "usr"} == {
        "usr",
        "usr/bin",
        "usr/bin/cred-export",
        "usr/share",
        "usr/share/doc",
        "usr/share/doc/cred-export",
        "usr/share/doc/cred-export/copyright",
    }
    link = members["usr/bin/cred-export"]
    assert link.issym() and link.linkname == "/opt/cred-export/cred-export"
    executables = {"opt/cred-export/cred-export"}
    for name, member in members.items():
        if member.isdir() or name in executables:
            assert member.mode == 0o755, f"{name}: {oct(member.mode)}"
        elif member.isfile():
            assert member.mode == 0o644, f"{name}: {oct(member.mode)}"
    assert shipped_config == (PACKAGING / "config" / "config.toml").read_bytes()
    assert tomllib.loads(shipped_config.decode()) == {}  # every setting commented out: defaults apply


def test_deb_holds_no_test_or_build_paths(deb: Path, forbidden_paths: list[str]) -> None:
    leaks: dict[str, list[str]] = {}
    with tarfile.open(fileobj=fsys_tar(deb)) as archive:
        names = archive.getnames()
        for member in archive.getmembers():
            if member.isfile():
                for blob in blobs(member.name, archive.extractfile(member).read()):  # type: ignore[union-attr]
                    found = [text for text in forbidden_paths if text.encode() in blob]
                    if found:
                        leaks[member.name] = found
    noise = [
        n for n in names if re.search(r"(^|/)(tests?|harness|__pycache__|_pytest|pytest|moto|\.git)(/|$)", n)
    ]
    assert not noise, noise[:10]
    assert not leaks, f"build paths inside the package: {leaks}"


# --- the installed Debian package (root) -------------------------------------------------


def dpkg(*args: str) -> subprocess.CompletedProcess:
    """dpkg, waiting (bounded) while another package manager holds its lock."""
    deadline = time.monotonic() + 120
    while True:
        completed = subprocess.run(
            ["dpkg", *args],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if completed.returncode == 0 or "lock" not in completed.stderr or time.monotonic() > deadline:
            return completed
        time.sleep(2)


def package_installed() -> bool:
    query = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", "cred-export"], capture_output=True, text=True
    )
    return query.returncode == 0 and "installed" in query.stdout.split()


@pytest.fixture(scope="module")
def installed(request: pytest.FixtureRequest) -> Iterator[str]:
    """The .deb installed on this machine, purged afterwards; yields dpkg's output (the post-install note)."""
    require(os.geteuid() == 0, "installing the .deb needs root")
    require(
        not package_installed() and not SYSTEM_CONFIG.parent.exists(),
        "cred-export is already installed here (remove it with `dpkg --purge cred-export`)",
    )
    deb: Path = request.getfixturevalue("deb")  # built only once the checks above pass
    completed = dpkg("-i", str(deb))
    try:
        assert completed.returncode == 0, completed.stderr
        yield completed.stdout
    finally:
        purge = dpkg("--purge", "cred-export")
        assert purge.returncode == 0, purge.stderr


def test_installed_deb_runs_from_the_path_and_exports(
    installed: str, sandbox: Sandbox, sts: StsProxy
) -> None:
    assert "managed-settings.json" in installed  # the post-install note
    assert shutil.which("cred-export", path="/usr/bin") == str(INSTALLED)
    version = run("cred-export", sandbox, "--version", env={"PATH": f"/usr/bin:{sandbox.env['PATH']}"})
    assert version.code == 0 and version.stdout.strip() == f"cred-export, version {__version__}"
    export_miss_then_hit(INSTALLED, sandbox, sts)


def test_installed_deb_writes_managed_settings_as_its_note_says(
    installed: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    assert "cred-export setup claude --managed" in installed
    profile = sandbox.role_chain(depth=1)
    target = tmp_path / "managed-settings.json"  # the note says /etc/claude-code/; same command
    wiring = ["setup", "claude", "--managed", "--profile", profile, "--region", "us-east-1"]
    result = run(INSTALLED, sandbox, *wiring, "--output", str(target))
    assert result.code == 0, result.stderr
    document = json.loads(target.read_text())
    assert document["awsCredentialExport"] == f"/opt/cred-export/cred-export --profile {profile}"
    assert document["env"]["CLAUDE_CODE_USE_BEDROCK"] == "1"


def test_installed_files_and_modes(installed: str) -> None:
    expected = {
        "/opt/cred-export": 0o755,
        "/opt/cred-export/cred-export": 0o755,
        "/opt/cred-export/_internal": 0o755,
        "/etc/cred-export": 0o755,
        str(SYSTEM_CONFIG): 0o644,
        "/usr/share/doc/cred-export/copyright": 0o644,
    }
    for path, mode in expected.items():
        info = os.stat(path)
        assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (mode, 0, 0), path
    assert os.readlink(INSTALLED) == "/opt/cred-export/cred-export"
    verify = dpkg("--verify", "cred-export")
    assert verify.returncode == 0 and not verify.stdout.strip(), verify.stdout + verify.stderr
    conffiles = subprocess.run(
        ["dpkg-query", "-W", "-f=${Conffiles}", "cred-export"], capture_output=True, text=True, check=True
    ).stdout
    assert str(SYSTEM_CONFIG) in conffiles


def test_system_config_is_the_lowest_layer(installed: str, sandbox: Sandbox, sts: StsProxy) -> None:
    """/etc/cred-export/config.toml presets settings; the user's file and the environment override it."""
    env_without_override = {k: v for k, v in sandbox.env.items() if k != "CRED_EXPORT_SYSTEM_CONFIG"}
    box = sandbox
    box.env = env_without_override
    profile = box.role_chain(depth=1)
    shipped = SYSTEM_CONFIG.read_text()
    user_config = box.home / ".config" / "cred-export" / "config.toml"

    def calls_per_run(env: dict[str, str] | None = None) -> list[int]:
        counts = []
        for _ in range(2):
            before = sts.calls["AssumeRole"]
            result = run(INSTALLED, box, "--profile", profile, env=env)
            assert result.code == 0, result.stderr
            counts.append(sts.calls["AssumeRole"] - before)
        return counts

    try:
        assert calls_per_run() == [1, 0]  # the shipped file (all comments) + the user's cache = "file"
        SYSTEM_CONFIG.write_text(shipped + '\ncache = "none"\n')
        user_config.unlink()
        assert calls_per_run() == [1, 1]  # the system layer applies: no cache
        user_config.write_text('cache = "file"\n')
        assert calls_per_run()[1] == 0  # the user's file wins over the system layer
        assert calls_per_run({"CRED_EXPORT_CACHE": "none"}) == [1, 1]  # the environment wins over both
        SYSTEM_CONFIG.write_text(shipped + "\nno_such_setting = 1\n")
        broken = run(INSTALLED, box, "--profile", profile)
        assert broken.code == 2 and str(SYSTEM_CONFIG) in broken.stderr
    finally:
        SYSTEM_CONFIG.write_text(shipped)


# --- helpers for looking inside artifacts ------------------------------------------------


def fsys_tar(deb: Path) -> io.BytesIO:
    """The .deb's data archive as an uncompressed tar stream."""
    data = subprocess.run(
        ["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True, timeout=120
    )
    return io.BytesIO(data.stdout)


def elf_files(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    yield path


def ldd_entries(listing: str) -> Iterator[tuple[str, str]]:
    """(library name, where it was found or "not found") for each line of ldd's output."""
    for line in listing.splitlines():
        line = line.strip()
        if not line or line == "statically linked":
            continue
        name, arrow, where = line.partition(" => ")
        if arrow:
            yield name, where
        else:  # the loader or the vDSO: "/lib64/ld-linux-x86-64.so.2 (0x...)"
            path = line.split(" ")[0]
            yield os.path.basename(path), path


def blobs(name: str, content: bytes) -> Iterator[bytes]:
    """A file's bytes, and for zip archives (base_library.zip) each member's bytes too."""
    yield content
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            for member in archive.namelist():
                yield archive.read(member)


def bundled_modules(internal: Path) -> set[str]:
    """Dotted names of the compiled modules in a bundle's _internal/ (packages without `.__init__`)."""
    names = {".".join(p.relative_to(internal).with_suffix("").parts) for p in internal.rglob("*.pyc")}
    base_library = internal / "base_library.zip"  # absent when the bundle is built with noarchive
    if base_library.exists():
        with zipfile.ZipFile(base_library) as archive:
            names |= {
                n.removesuffix(".pyc").replace("/", ".") for n in archive.namelist() if n.endswith(".pyc")
            }
    return {name.removesuffix(".__init__") for name in names}
