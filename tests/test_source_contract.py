"""The contract every credential source keeps, run against each one (as keyring's BackendBasicTests).

The cases are the source registry itself (`registry.SOURCES`), plus the sources reached without a
profile (keys in the environment): a source added to the registry is covered with no edit here.
Each source module declares `EXAMPLE`, a profile it claims, written where its `ROOT.defined_in`
says (the AWS config file, or a `[profiles.NAME]` table of the settings); the environment source's
`EXAMPLE` is the environment it reads. Each registry source is also run inside the MFA wrapper
(a role with `mfa_serial` whose `source_profile` is the example), which a chain puts around its
root. Every source must show, for its example, that

- the profile resolves to this source, not to one before it in the registry;
- `identity()` (the cache key's input) holds no secret and serializes the same way every time;
- `describe()` is one line, with no secret;
- building its root and reading its session makes no network call;
- `cred-export clear --session-files` removes every store entry and shared file it owns (and the
  entries its session is read from are among them).
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import keyring.backends.fail
import keyring.core
import pytest

from cred_export.aws.config import SECRET_KEYS, load_aws_config
from cred_export.chain import Chain, resolve_chain
from cred_export.flows.clear import clear
from cred_export.settings import load_settings
from cred_export.sources import environment, registry
from cred_export.sources.base import AWS_CONFIG, SETTINGS, Candidate, Root
from cred_export.sources.mfa import MfaRoot
from cred_export.stores.cache_key import digest
from cred_export.stores.file_store import FileStore

PROFILE = "contract"
MFA_PROFILE = "contract-mfa"  # a role on PROFILE with mfa_serial: its chain's root is an MfaRoot

# Sources the registry does not hold: chosen before it, from the environment, when no profile is
# named. Their EXAMPLE is the environment they read.
WITHOUT_A_PROFILE: tuple[ModuleType, ...] = (environment,)
SOURCES = (*registry.SOURCES, *WITHOUT_A_PROFILE)
# (source, whether inside the MFA wrapper)
CASES = [(source, False) for source in SOURCES] + [(source, True) for source in registry.SOURCES]

# Settings (or environment variables) whose values are secrets.
_SECRET_NAME = re.compile(r"(?i)secret|password|passphrase|session_token|security_token|(^|_)token$")


def source_name(source: ModuleType) -> str:
    return source.__name__.rsplit(".", 1)[-1]


def case_name(case: tuple[ModuleType, bool]) -> str:
    source, in_mfa = case
    return f"{source_name(source)}-in-mfa" if in_mfa else source_name(source)


def example_of(source: ModuleType) -> dict[str, object]:
    example = getattr(source, "EXAMPLE", None)
    assert isinstance(example, dict) and example, (
        f"{source.__name__} has no EXAMPLE: declare the settings of a profile it claims"
        " (see cred_export/sources/base.py)"
    )
    return example


def secrets_in(example: dict[str, object]) -> list[str]:
    return [
        str(value)
        for name, value in example.items()
        if name.lower() in SECRET_KEYS or _SECRET_NAME.search(name)
    ]


def toml_value(value: object) -> str:
    if isinstance(value, bool | int):
        return str(value).lower()
    return json.dumps(value)  # a JSON string or list of strings is a TOML one too


@dataclass
class Home:
    """A private HOME whose AWS config and settings hold one source's example profile."""

    root: Path
    monkeypatch: pytest.MonkeyPatch
    source: ModuleType
    in_mfa: bool  # whether the profile is a role with mfa_serial on the example

    @property
    def name(self) -> str:
        return case_name((self.source, self.in_mfa))

    @property
    def profile(self) -> str:
        return MFA_PROFILE if self.in_mfa else PROFILE

    @property
    def example(self) -> dict[str, object]:
        return example_of(self.source)

    @property
    def has_a_profile(self) -> bool:
        return self.source not in WITHOUT_A_PROFILE

    def write(self) -> None:
        """Puts the example where the source reads it: the AWS config, settings or environment."""
        settings = 'cache = "file"\n'
        aws_config = ""
        if not self.has_a_profile:
            for name, value in self.example.items():
                self.monkeypatch.setenv(name, str(value))
        elif self.source.ROOT.defined_in == SETTINGS:
            lines = "".join(f"{name} = {toml_value(value)}\n" for name, value in self.example.items())
            settings += f"\n[profiles.{PROFILE}]\n{lines}"
        else:
            assert self.source.ROOT.defined_in == AWS_CONFIG, (
                f"{self.source.__name__}: unknown ROOT.defined_in"
            )
            lines = "".join(f"{name} = {value}\n" for name, value in self.example.items())
            aws_config = f"[profile {PROFILE}]\n{lines}"
        if self.in_mfa:
            aws_config += (
                f"\n[profile {MFA_PROFILE}]\nrole_arn = arn:aws:iam::123456789012:role/Admin\n"
                f"source_profile = {PROFILE}\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\n"
            )
        (self.root / ".aws" / "config").write_text(aws_config)
        (self.root / ".config" / "cred-export" / "config.toml").write_text(settings)

    def build(self) -> Root:
        """The root, built as export builds it: from the files (or environment) just written."""
        root = self._build_source()
        if not self.in_mfa:
            return root
        wrapped = resolve(self).root  # the chain alone puts the wrapper on
        assert type(wrapped) is MfaRoot and wrapped.inner == root, f"{self.name}: no MFA wrapper"
        return wrapped

    def _build_source(self) -> Root:
        if not self.has_a_profile:
            root = self.source.from_environment()
            assert root is not None, f"{self.source.__name__}: its EXAMPLE gave no root"
            return root
        config = load_aws_config()
        table = load_settings().profiles.get(PROFILE) if self.source.ROOT.defined_in == SETTINGS else None
        settings = table if table is not None else config.profile(PROFILE)
        root = self.source.match(Candidate(PROFILE, settings, self.source.ROOT.defined_in), config)
        assert root is not None, f"{self.source.__name__} does not claim its own EXAMPLE"
        return root


@pytest.fixture
def home(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_LOGIN_CACHE_DIRECTORY", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".config" / "cred-export").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / ".aws" / "credentials"))
    monkeypatch.setenv("CRED_EXPORT_CONFIG", str(tmp_path / ".config" / "cred-export" / "config.toml"))
    monkeypatch.setenv("CRED_EXPORT_SYSTEM_CONFIG", str(tmp_path / "system-config.toml"))
    monkeypatch.setenv("CRED_EXPORT_CACHE_DIR", str(tmp_path / ".cache" / "cred-export"))
    # No OS keyring here (`clear` looks for one): keyring would remember the failed discovery of
    # this HOME for the rest of the process.
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.backends.fail.Keyring())
    box = Home(tmp_path, monkeypatch, *request.param)
    box.write()
    return box


every_source = pytest.mark.parametrize("home", CASES, ids=case_name, indirect=True)


class ReadsRecorded(FileStore):
    """The file store, noting every entry read from it."""

    def __init__(self) -> None:
        super().__init__()
        self.read: set[str] = set()

    def get_text(self, key: str) -> str | None:
        self.read.add(key)
        return super().get_text(key)


@contextmanager
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuses every connection and name lookup, and lists them (in case a caller swallows the error)."""
    attempts: list[str] = []

    def refuse(what: str):  # type: ignore[no-untyped-def]
        def refused(*args, **kwargs):  # type: ignore[no-untyped-def]
            attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise OSError(f"a contract test refuses network calls ({what})")

        return refused

    with monkeypatch.context() as patch:
        for method in ("connect", "connect_ex"):
            patch.setattr(socket.socket, method, refuse(f"socket.{method}"))
        for function in ("getaddrinfo", "create_connection"):
            patch.setattr(socket, function, refuse(function))
        yield attempts


def resolve(home: Home) -> Chain:
    """The chain `export` (and `clear`) resolves for the example: by name, or with no name."""
    name, named = (home.profile, True) if home.has_a_profile else ("default", False)
    return resolve_chain(load_aws_config(), name, profile_named=named, idp_profiles=load_settings().profiles)


@pytest.mark.parametrize("source", SOURCES, ids=source_name)
def test_every_source_declares_an_example(source: ModuleType) -> None:
    example_of(source)


@every_source
def test_the_profile_resolves_to_this_source(home: Home) -> None:
    root = home.build()
    chain = resolve(home)
    assert chain.root == root, f"{home.name}: its EXAMPLE resolves to {chain.root!r}"
    assert len(chain.roles) == (1 if home.in_mfa else 0)


@every_source
def test_identity_holds_no_secret_and_serializes_the_same_every_time(home: Home) -> None:
    identity = home.build().identity()
    assert isinstance(identity, dict) and identity
    text = json.dumps(identity, sort_keys=True)  # plain JSON types only: no default= needed
    assert text == json.dumps(home.build().identity(), sort_keys=True)
    assert digest(identity) == digest(home.build().identity())
    for secret in secrets_in(home.example):
        assert secret not in text, f"{home.name}: identity() holds a secret"


@every_source
def test_describe_is_one_line_without_a_secret(home: Home) -> None:
    line = home.build().describe()
    assert isinstance(line, str) and line.strip() == line and line
    assert len(line.splitlines()) == 1 and "\r" not in line and "\n" not in line
    for secret in secrets_in(home.example):
        assert secret not in line, f"{home.name}: describe() shows a secret"


@every_source
def test_building_it_and_reading_its_session_make_no_network_call(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileStore()
    with no_network(monkeypatch) as attempts:
        root = home.build()
        session = root.session(store)
        root.sign_in_needed(session)
        root.identity(), root.describe(), root.store_keys(), root.shared_files()
        resolve(home).store_keys()
    assert attempts == []
    assert session is None or (isinstance(session.kind, str) and session.kind)


@every_source
def test_clear_removes_every_entry_and_file_it_owns(home: Home) -> None:
    root = home.build()
    if not home.has_a_profile:
        # `clear` names a profile, so it cannot reach this source: it must own nothing to clear.
        assert root.store_keys() == [] and root.shared_files() == []
        return
    store = ReadsRecorded()
    owned = [resolve(home).cache_key(), *root.store_keys()]
    root.session(store)
    assert store.read <= set(owned), f"{home.name}: session() reads entries store_keys() does not list"
    for n, key in enumerate(owned):
        store.put_text(key, f"owned value {n}")
    store.put_text("00unrelated", "not this profile's")
    files = [Path(path) for path in root.shared_files()]
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"accessToken": "owned"}')
        path.with_name(f".{path.name}.k1ll3d.tmp").write_text("a write killed before its rename")

    said: list[str] = []
    clear(home.profile, everything=False, session_files=True, say=said.append)

    assert said == [f"cleared profile {home.profile}"]
    assert [key for key in owned if store.get_text(key) is not None] == []
    assert store.get_text("00unrelated") == "not this profile's"
    assert [str(path) for path in files if path.exists()] == []
    assert [str(p) for path in files for p in path.parent.glob(f".{path.name}.*")] == []
