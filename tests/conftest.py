"""Fixtures: moto in server mode behind an STS proxy, a real Secret Service, sandboxes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness.oidc_provider import AVAILABLE as OIDC_AVAILABLE
from harness.oidc_provider import OpenIdProvider
from harness.oidc_provider import ensure_installed as ensure_op_installed
from harness.require import require
from harness.sandbox import Sandbox
from harness.secret_service import AVAILABLE as SECRET_SERVICE_AVAILABLE
from harness.secret_service import SecretService
from harness.signin_server import SigninServer
from harness.sso_server import SsoServer
from harness.sts_proxy import StsProxy


@pytest.fixture(scope="session")
def moto_port() -> Iterator[int]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield server.get_host_and_port()[1]
    server.stop()


@pytest.fixture(scope="session")
def _proxy(moto_port: int) -> Iterator[StsProxy]:
    proxy = StsProxy(moto_port)
    yield proxy
    proxy.close()


@pytest.fixture
def sts(_proxy: StsProxy) -> StsProxy:
    """The STS endpoint tests talk to, with its call counters and fault switches reset."""
    _proxy.reset()
    return _proxy


@pytest.fixture(scope="session")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretService]:
    require(SECRET_SERVICE_AVAILABLE, "no gnome-keyring-daemon/dbus-daemon on this machine")
    service = SecretService(tmp_path_factory.mktemp("secret-service"))
    yield service
    service.stop()


@pytest.fixture
def sandbox(tmp_path: Path, sts: StsProxy) -> Sandbox:
    """A sandbox using the file store (no D-Bus): most behaviour does not depend on the store."""
    box = Sandbox(tmp_path, sts.url)
    box.write_settings('cache = "file"\n')
    return box


@pytest.fixture
def keyring_sandbox(tmp_path: Path, sts: StsProxy, secret_service: SecretService) -> Sandbox:
    """A sandbox whose default store is the real Secret Service."""
    return Sandbox(tmp_path, sts.url, secret_service.env)


@pytest.fixture(scope="session")
def _sso_server() -> Iterator[SsoServer]:
    server = SsoServer()
    yield server
    server.close()


@pytest.fixture
def sso(_sso_server: SsoServer) -> SsoServer:
    """IAM Identity Center's SSO-OIDC and portal APIs on 127.0.0.1, state reset per test."""
    _sso_server.reset()
    return _sso_server


@pytest.fixture
def sso_sandbox(tmp_path: Path, sts: StsProxy, sso: SsoServer) -> Sandbox:
    """A file-store sandbox whose botocore SSO and SSO-OIDC endpoints are the test server."""
    box = Sandbox(tmp_path, sts.url, {"AWS_ENDPOINT_URL_SSO": sso.url, "AWS_ENDPOINT_URL_SSO_OIDC": sso.url})
    box.write_settings('cache = "file"\n')
    return box


@pytest.fixture(scope="session")
def _signin_server() -> Iterator[SigninServer]:
    server = SigninServer()
    yield server
    server.close()


@pytest.fixture
def signin(_signin_server: SigninServer) -> SigninServer:
    """The AWS Sign-In service behind `aws login` on 127.0.0.1, state reset per test."""
    _signin_server.reset()
    return _signin_server


@pytest.fixture
def console_sandbox(tmp_path: Path, sts: StsProxy, signin: SigninServer) -> Sandbox:
    """A file-store sandbox whose AWS Sign-In endpoint is the test server."""
    box = Sandbox(tmp_path, sts.url, {"AWS_ENDPOINT_URL_SIGNIN": signin.url})
    box.write_settings('cache = "file"\n')
    return box


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def oidc_op() -> Iterator[OpenIdProvider]:
    """A real OpenID Provider (oidc-provider on Node) whose client redirects to a fixed port."""
    require(OIDC_AVAILABLE, "node is not installed: no local OpenID Provider")
    ensure_op_installed()
    provider = OpenIdProvider(redirect_port=free_port())
    yield provider
    provider.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/unit are marked `unit` (the fast loop), every other one `e2e`."""
    unit = Path(__file__).parent / "unit"
    for item in items:
        item.add_marker(pytest.mark.unit if unit in item.path.parents else pytest.mark.e2e)
