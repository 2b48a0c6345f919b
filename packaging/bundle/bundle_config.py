"""What goes into the one-dir bundle: hidden imports, excluded modules and trimmed data.

Plain Python (no PyInstaller import) so the rules can be read, linted and tested on their own;
`cred-export.spec` applies them.
"""

from __future__ import annotations

# botocore service models the bundle keeps. Everything cred-export and botocore's own credential
# providers call: STS (assume-role, session tokens, web identity), SSO and SSO-OIDC (IAM Identity
# Center), Cognito Identity, Bedrock (for `setup` checks), and Sign-In (botocore's `login_session`
# credential provider). Every other service model is dropped: about 28 MB of JSON.
KEEP_SERVICES = frozenset(
    {"sts", "sso", "sso-oidc", "cognito-identity", "bedrock", "bedrock-runtime", "signin"}
)
# Per-service files botocore never reads at run time (documentation examples).
DROPPED_SERVICE_FILES = frozenset({"examples-1.json"})

# Loaded lazily or through entry points, so PyInstaller's import scan may miss them.
COMMON_HIDDEN_IMPORTS = (
    "click",
    "filelock",
    "botocore",
    "keyring.backends.chainer",
    "keyring.backends.fail",
)
PLATFORM_HIDDEN_IMPORTS = {
    "linux": (
        "keyring.backends.SecretService",
        "keyring.backends.kwallet",
        "keyring.backends.libsecret",
        "secretstorage",
        "jeepney",
        "jeepney.io.blocking",
    ),
    "darwin": ("keyring.backends.macOS", "keyring.backends.macOS.api"),
    "win32": ("keyring.backends.Windows", "win32ctypes.core"),
}

# Never wanted in the bundle, even when the build interpreter has them installed.
EXCLUDES = (
    "tkinter",
    "_tkinter",
    "pytest",
    "_pytest",
    "moto",
    "hypothesis",
    "jeepney.io.tests",
    "jeepney.tests",
    "pip",
    "setuptools",
    "pkg_resources",
    "PyInstaller",
    "IPython",
    "sqlite3",  # only filelock's read-write locks use it; cred-export takes plain file locks
)
# When ctypes is in a bundle, PyInstaller's bootstrap imports it on every start (~4 ms of a ~38 ms
# cache hit). On Linux nothing cred-export runs needs it: the Secret Service is reached over D-Bus
# (jeepney), keyring's macOS and Windows backends and filelock's stale soft-lock breaking (which
# cred-export does not use) import it behind `except ImportError`. macOS and Windows keep it:
# their keyring backends are built on it.
PLATFORM_EXCLUDES = {"linux": ("ctypes",)}

# PyInstaller runtime hooks run before the entry script on every call. These four only serve
# features cred-export and its dependencies never use (inspect.getsource on frozen code,
# pkgutil.iter_modules over frozen packages, multiprocessing, setuptools), and the first one
# alone imports inspect and zipfile and opens base_library.zip: tens of milliseconds per call.
UNNEEDED_RUNTIME_HOOKS = frozenset(
    {"pyi_rth_inspect", "pyi_rth_pkgutil", "pyi_rth_multiprocessing", "pyi_rth_setuptools", "pyi_rth_pkgres"}
)


def hidden_imports(platform: str, python_version: tuple[int, int]) -> list[str]:
    """Modules to collect for `platform` (a `sys.platform` value) besides what the scan finds."""
    names = [*COMMON_HIDDEN_IMPORTS, *PLATFORM_HIDDEN_IMPORTS.get(_platform_key(platform), ())]
    names.append("tomllib" if python_version >= (3, 11) else "tomli")
    return names


def excludes(platform: str) -> list[str]:
    """Modules to leave out of the bundle for `platform` (a `sys.platform` value)."""
    return [*EXCLUDES, *PLATFORM_EXCLUDES.get(_platform_key(platform), ())]


def _platform_key(platform: str) -> str:
    return "linux" if platform.startswith("linux") else platform


def keep_data(dest: str) -> bool:
    """Whether a data file (its path inside the bundle) belongs in the bundle."""
    parts = dest.replace("\\", "/").split("/")
    if parts[:2] != ["botocore", "data"] or len(parts) <= 3:
        return True  # not a service model: endpoints.json, partitions.json, _retry.json, ...
    return parts[2] in KEEP_SERVICES and parts[-1] not in DROPPED_SERVICE_FILES


def keep_runtime_hook(name: str) -> bool:
    return name not in UNNEEDED_RUNTIME_HOOKS
