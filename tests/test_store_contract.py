"""The contract every credential store keeps, run against each one (as keyring's BackendBasicTests).

Each store class below gets the same tests: the file store, the file store standing in for a
keyring, the null store (which keeps nothing, by contract), the keyring library on a real Secret
Service, and the hit path's direct Secret Service reader (which must read exactly what the
keyring store wrote). A new store adds one class here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import keyring.core
import pytest

from cred_export import stores
from cred_export.credentials import Credentials
from cred_export.fast import record
from cred_export.fast.memo import Memo
from cred_export.settings import CACHE_MODES, Settings
from cred_export.stores import registry
from cred_export.stores.base import Store
from cred_export.stores.fallback_store import FallbackFileStore
from cred_export.stores.file_store import FileStore
from cred_export.stores.keyring_store import KeyringStore
from cred_export.stores.null_store import NullStore

EXPIRY = int(time.time()) + 3600


def creds(n: int = 1) -> Credentials:
    return Credentials(
        f"ASIACONTRACT{n:08d}", f"secret/{n}+x", f"token-{n}" + "t" * 300, EXPIRY, EXPIRY - 900
    )


class StoreContract:
    """What every store does; `keeps` is False for the store whose contract is to keep nothing."""

    keeps = True

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError

    def hit_texts(self, store: Store, keys: tuple[str, ...]) -> list[str | None]:
        """What the hit path reads for `keys`, given what the slow path wrote into `store`."""
        memo = Memo(keys[0], store.kind, retry_keyring_after=time.time() + 300, fallback_reason="test")
        return stores.fast_read(store.kind, keys, memo)

    def fast_read(self, store: Store, key: str) -> Credentials | None:
        (text,) = self.hit_texts(store, (key,))
        return record.decode(text)

    def test_it_declares_what_it_is(self, store: Store) -> None:
        assert store.kind in stores.KINDS
        assert isinstance(store.is_os_keyring, bool) and isinstance(store.name, str) and store.name
        assert store.fallback_reason is None or isinstance(store.fallback_reason, str)
        assert store.directory is None or isinstance(store.directory, str)
        description = store.describe()
        assert isinstance(description, str) and description and "\n" not in description

    def test_a_missing_entry_reads_as_none(self, store: Store) -> None:
        assert store.get("00ffmissing") is None
        assert store.get_text("00ffmissing") is None
        assert self.fast_read(store, "00ffmissing") is None

    def test_credentials_round_trip_and_the_hit_path_reads_the_same(self, store: Store) -> None:
        store.put("00aa", creds(1))
        if not self.keeps:
            assert store.get("00aa") is None and self.fast_read(store, "00aa") is None
            return
        assert store.get("00aa") == creds(1)
        assert self.fast_read(store, "00aa") == creds(1)
        assert store.get("00aa").lifetime == 900  # when they were issued survives the store too

    def test_the_hit_path_reads_several_entries_in_one_visit(self, store: Store) -> None:
        store.put("00aa", creds(1))
        store.put_text("00bb", "a Bedrock API key\nsecond line")
        texts = self.hit_texts(store, ("00aa", "00bb", "00ffmissing"))
        if not self.keeps:
            assert texts == [None, None, None]
            return
        assert record.decode(texts[0]) == creds(1)
        assert texts[1:] == ["a Bedrock API key\nsecond line", None]

    def test_text_round_trips_whatever_it_holds(self, store: Store) -> None:
        for text in ("plain", "two\nlines", "ünïcødé ✓", "x" * 5000):
            store.put_text("00bb", text)
            assert store.get_text("00bb") == (text if self.keeps else None)

    def test_a_put_replaces_what_was_there(self, store: Store) -> None:
        store.put("00cc", creds(1))
        store.put("00cc", creds(2))
        assert store.get("00cc") == (creds(2) if self.keeps else None)

    def test_entries_are_independent_and_delete_removes_only_one(self, store: Store) -> None:
        store.put_text("00d1", "one")
        store.put_text("00d2", "two")
        store.delete("00d1")
        store.delete("00d1")  # deleting what is gone is fine
        assert store.get_text("00d1") is None
        assert store.get_text("00d2") == ("two" if self.keeps else None)

    def test_an_entry_that_is_not_a_record_reads_as_a_miss(self, store: Store) -> None:
        store.put_text("00ee", "cred-export-record 2\ntruncated")
        assert store.get("00ee") is None
        assert self.fast_read(store, "00ee") is None

    def test_records_survive_the_store_byte_for_byte(self, store: Store) -> None:
        store.put("00ff", creds(3))
        if self.keeps:
            assert store.get_text("00ff") == record.encode(creds(3))


def test_every_cache_setting_names_a_store_that_builds_itself(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CRED_EXPORT_CACHE_DIR", str(tmp_path))
    assert set(registry.STORES) == set(CACHE_MODES)
    for setting in ("file", "none"):  # the keyring's needs a keyring: its class below builds one
        store_class = registry.store_class(setting)
        assert type(store_class.from_settings(Settings(cache=setting))) is store_class


class TestFileStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path, monkeypatch) -> Store:  # type: ignore[no-untyped-def]
        monkeypatch.setenv("CRED_EXPORT_CACHE_DIR", str(tmp_path))
        return FileStore()


class TestFallbackFileStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path, monkeypatch) -> Store:  # type: ignore[no-untyped-def]
        monkeypatch.setenv("CRED_EXPORT_CACHE_DIR", str(tmp_path))
        return FallbackFileStore("the OS keyring is locked")

    def test_the_hit_path_goes_back_to_the_keyring_when_it_is_time(self, store: Store) -> None:
        store.put("0011", creds(1))
        due = Memo("0011", store.kind, retry_keyring_after=time.time() - 1)
        assert stores.fast_read(store.kind, ("0011",), due) == [None]


class TestNullStore(StoreContract):
    keeps = False

    @pytest.fixture
    def store(self) -> Store:
        return NullStore()


@pytest.fixture
def keyring_on_secret_service(secret_service, tmp_path, monkeypatch) -> Iterator[KeyringStore]:  # type: ignore[no-untyped-def]
    """The keyring library in this process, on the test's private Secret Service."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name, value in secret_service.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # discover again, on this bus
    store = KeyringStore.from_settings(Settings(keyring_timeout_seconds=5, keyring_chunk_size=1200))
    yield store
    for key in ("00aa", "00bb", "00cc", "00d1", "00d2", "00ee", "00ff"):
        store.delete(key)


class TestKeyringStoreOnTheSecretService(StoreContract):
    @pytest.fixture
    def store(self, keyring_on_secret_service) -> Store:  # type: ignore[no-untyped-def]
        assert keyring_on_secret_service.kind == stores.SECRET_SERVICE
        return keyring_on_secret_service

    def hit_texts(self, store: Store, keys: tuple[str, ...]) -> list[str | None]:
        """Through the keyring library (as on macOS and Windows), not the direct reader."""
        memo = Memo(keys[0], stores.KEYRING_LIBRARY, chunk=1200)
        return stores.fast_read(stores.KEYRING_LIBRARY, keys, memo)


class TestSecretServiceReader(StoreContract):
    """The hit path's own D-Bus reader must see exactly what the keyring library wrote."""

    @pytest.fixture
    def store(self, keyring_on_secret_service) -> Store:  # type: ignore[no-untyped-def]
        return keyring_on_secret_service

    def hit_texts(self, store: Store, keys: tuple[str, ...]) -> list[str | None]:
        return stores.fast_read(stores.SECRET_SERVICE, keys, Memo(keys[0], stores.SECRET_SERVICE))

    def test_it_reads_values_split_into_parts(self, store: Store) -> None:
        long = Credentials("ASIACONTRACT00000009", "s" * 40, "t" * 4000, EXPIRY)
        store.put("00aa", long)
        assert self.fast_read(store, "00aa") == long
