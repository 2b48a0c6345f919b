"""`cred_export.credentials`: the lifetime-scaled windows, freshness, `mask`, equality, ISO times."""

from __future__ import annotations

import time
import types

import pytest

from cred_export import credentials
from cred_export.credentials import (
    Credentials,
    Keys,
    format_iso,
    grace_for,
    mask,
    min_handout_for,
    parse_iso,
    refresh_ahead_for,
)

NOW = 1_900_000_000.0  # 2030-03-17T17:46:40Z
KEY_ID = "ASIAEXAMPLE000000001"


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> float:
    """`time.time()` as the module sees it is NOW (the module's own name only, not the process's)."""
    fake = types.SimpleNamespace(time=lambda: NOW, strftime=time.strftime, gmtime=time.gmtime)
    monkeypatch.setattr(credentials, "time", fake)
    return NOW


def creds(expires_in: float, lifetime: float | None = None, *, key_id: str = KEY_ID) -> Credentials:
    """Credentials with `expires_in` seconds left at NOW, issued `lifetime` seconds before expiring."""
    expiration = NOW + expires_in
    issued = expiration - lifetime if lifetime is not None else None
    return Credentials(key_id, "se/cr+et", "to+ken/==", expiration, issued=issued)


# --- the windows (the table in the module's docstring) -------------------------------------------


def test_the_documented_constants():
    assert credentials.MIN_HANDOUT_SECONDS == 600
    assert credentials.GRACE_SECONDS == 360
    assert credentials.CLAUDE_CODE_MARGIN == 300
    assert credentials.LATEST_TIME == 100_000_000_000


@pytest.mark.parametrize(
    "lifetime, refresh_ahead, min_handout, grace",
    [
        (None, 900, 600, 360),  # unknown lifetime: the configured window, 10 min, 6 min
        (3600, 900, 600, 360),  # an hour: the same
        (1800, 900, 600, 360),  # 30 min: half of it is the configured window
        (1200, 600, 480, 360),  # 20 min: half the lifetime, 40 % of it
        (1000, 500, 400, 360),  # 40 % of the lifetime is above the floor
        (900, 450, 360, 330),  # a 900-second role: 7.5 min, 6 min, 5.5 min
        (600, 360, 360, 330),  # shorter still: never less than Claude Code's margin plus a minute
        (60, 360, 360, 330),
    ],
)
def test_windows_scale_with_the_lifetime(lifetime, refresh_ahead, min_handout, grace):
    assert refresh_ahead_for(lifetime, 900) == refresh_ahead
    assert min_handout_for(lifetime) == min_handout
    assert grace_for(lifetime) == grace
    held = creds(3000, lifetime)
    assert held.refresh_ahead(900) == refresh_ahead
    assert held.min_handout() == min_handout
    assert held.grace() == grace


def test_a_configured_window_shorter_than_half_the_lifetime_is_kept():
    assert refresh_ahead_for(None, 120) == 120
    assert refresh_ahead_for(3600, 1200) == 1200
    assert refresh_ahead_for(3600, 2400) == 1800  # never more than half the lifetime
    assert refresh_ahead_for(3600, 120) == 600  # nor less than the minimum hand-out


# --- Credentials -------------------------------------------------------------------------------


def test_seconds_left_and_lifetime(frozen_clock):
    held = creds(700, 3600)
    assert held.seconds_left() == 700
    assert held.seconds_left(NOW + 100) == 600
    assert held.lifetime == 3600
    assert creds(700).lifetime is None


def test_seconds_left_uses_the_real_clock_by_default():
    held = Credentials(KEY_ID, "s", "t", time.time() + 100)
    assert 90 < held.seconds_left() <= 100


def test_constructor_fields():
    held = Credentials(KEY_ID, "s", "t", 1_900_000_000, 1_899_996_400)
    assert (held.access_key_id, held.secret_access_key, held.session_token) == (KEY_ID, "s", "t")
    assert held.expiration == 1_900_000_000.0 and isinstance(held.expiration, float)
    assert held.issued == 1_899_996_400.0 and isinstance(held.issued, float)
    assert held.assumed_expiry is False
    assert Credentials(KEY_ID, "s", "t", NOW, 0).issued is None  # 0: not known
    assert Credentials(KEY_ID, "s", "t", NOW, assumed_expiry=True).assumed_expiry is True


@pytest.mark.parametrize(
    "expires_in, lifetime, fresh",
    [
        (900, None, True),  # exactly the configured window left: still fresh
        (899.5, None, False),
        (3600, None, True),
        (0, None, False),
        (-10, None, False),
        (450, 900, True),  # a 900-second role: fresh down to exactly half its lifetime
        (449.5, 900, False),
        (900, 3600, True),
        (899.5, 3600, False),
    ],
)
def test_is_fresh_at_the_window_edges(frozen_clock, expires_in, lifetime, fresh):
    assert creds(expires_in, lifetime).is_fresh(900) is fresh


def test_is_fresh_uses_the_configured_window(frozen_clock):
    assert creds(300).is_fresh(300) is True
    assert creds(299).is_fresh(300) is False


def test_fields_are_the_sts_names_in_order():
    held = Credentials(KEY_ID, "se/cr+et", "to+ken/==", NOW)
    assert held.fields() == (
        ("AccessKeyId", KEY_ID),
        ("SecretAccessKey", "se/cr+et"),
        ("SessionToken", "to+ken/=="),
        ("Expiration", "2030-03-17T17:46:40Z"),
    )
    assert held.expiration_iso == "2030-03-17T17:46:40Z"


def test_equality_and_hashing_follow_the_handed_out_fields():
    first = Credentials(KEY_ID, "s", "t", NOW, issued=NOW - 3600)
    same = Credentials(KEY_ID, "s", "t", NOW + 0.5, issued=NOW - 900)  # what is handed out is the same
    assert first == same and hash(first) == hash(same)
    assert hash(first) == hash(first.fields())
    assert len({first, same}) == 1
    for other in (
        Credentials("ASIAEXAMPLE000000002", "s", "t", NOW),
        Credentials(KEY_ID, "other", "t", NOW),
        Credentials(KEY_ID, "s", "other", NOW),
        Credentials(KEY_ID, "s", "t", NOW + 1),
    ):
        assert first != other
        assert (first == other) is False


def test_equality_with_anything_else_is_left_to_python():
    held = creds(100)
    assert held.__eq__(held.fields()) is NotImplemented
    assert (held == held.fields()) is False
    assert (held != "credentials") is True


def test_repr_masks_the_key_and_shows_no_secret():
    held = Credentials(KEY_ID, "se/cr+et", "to+ken/==", NOW)
    assert repr(held) == "Credentials(****0001, expires 2030-03-17T17:46:40Z)"
    keys = Keys(KEY_ID, "se/cr+et", "to+ken/==")
    assert repr(keys) == "Keys(****0001)"


def test_keys_may_lack_a_token_and_an_expiry():
    keys = Keys(KEY_ID, "s")
    assert (keys.access_key_id, keys.secret_access_key) == (KEY_ID, "s")
    assert keys.session_token is None and keys.expiration is None and keys.issued is None
    full = Keys(KEY_ID, "s", "t", NOW, NOW - 3600)
    assert (full.session_token, full.expiration, full.issued) == ("t", NOW, NOW - 3600)


# --- mask --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key_id, shown",
    [
        (KEY_ID, "****0001"),
        ("ABCDE", "****BCDE"),
        ("ABCD", "****"),  # a short key is never shown whole
        ("ABC", "****"),
        ("A", "****"),
        ("", "****"),
    ],
)
def test_mask_shows_at_most_the_last_four_characters_of_a_longer_key(key_id, shown):
    assert mask(key_id) == shown


# --- ISO 8601 ----------------------------------------------------------------------------------


def test_format_iso_is_utc_with_a_z_to_the_second():
    assert format_iso(NOW) == "2030-03-17T17:46:40Z"
    assert format_iso(NOW + 0.999) == "2030-03-17T17:46:40Z"  # truncated, never rounded up
    assert format_iso(0) == "1970-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "text",
    [
        "2030-03-17T17:46:40Z",
        "2030-03-17T17:46:40.000Z",
        "2030-03-17T17:46:40+00:00",
        "2030-03-17T19:46:40+02:00",
        "2030-03-17T12:46:40-05:00",
        "2030-03-17T17:46:40UTC",
        "2030-03-17T17:46:40",  # no zone: UTC, as AWS tools mean it
        "  2030-03-17T17:46:40Z\n",
    ],
)
def test_parse_iso_reads_the_shapes_aws_tools_write(text):
    assert parse_iso(text) == NOW


def test_parse_iso_keeps_milliseconds():
    assert parse_iso("2030-03-17T17:46:40.250Z") == NOW + 0.25


def test_parse_iso_reads_a_time_without_zone_as_utc_whatever_the_local_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert parse_iso("2030-03-17T17:46:40") == NOW
        assert parse_iso("2030-03-17T19:46:40+02:00") == NOW
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    "text, stamp",
    [
        ("1970-01-01T00:00:00Z", 0.0),  # the earliest time a record can hold
        ("5138-11-16T09:46:39Z", 99_999_999_999.0),  # the latest
        ("3554-06-09T16:53:20Z", 50_000_000_000.0),
    ],
)
def test_parse_iso_accepts_every_time_a_record_can_hold(text, stamp):
    assert parse_iso(text) == stamp


@pytest.mark.parametrize(
    "text",
    [
        "1969-12-31T23:59:59Z",  # before 1970
        "1970-01-01T01:00:00+02:00",
        "5138-11-16T09:46:40Z",  # 10**11: one digit too many
        "8307-10-01T19:33:20Z",  # 2 * 10**11
        "9999-12-31T23:59:59Z",
    ],
)
def test_parse_iso_refuses_an_impossible_time(text):
    with pytest.raises(ValueError) as raised:
        parse_iso(text)
    assert str(raised.value) == f"an impossible time: {text}"


def test_an_impossible_time_is_quoted_in_at_most_40_characters():
    text = "          5138-11-16T09:46:40.000000+00:00"  # 42 characters
    with pytest.raises(ValueError) as raised:
        parse_iso(text)
    assert str(raised.value) == "an impossible time: " + text[:40]


@pytest.mark.parametrize("text", ["", "never", "2030-13-01T00:00:00Z", "2030-03-17T17:46:40+25:00", "1e9"])
def test_parse_iso_refuses_what_is_not_a_time(text):
    with pytest.raises(ValueError):
        parse_iso(text)
