"""The AWS event stream encoding (``application/vnd.amazon.eventstream``), server side.

botocore and the AWS SDKs only decode it; a stand-in that streams has to encode it. One
message is:

    total length (4 bytes) | headers length (4) | CRC32 of those 8 bytes (the prelude)
    | headers | payload | CRC32 of everything before it

all integers unsigned big-endian. A header is its name's length (1 byte), the name (UTF-8), a
type (1 byte; 7 is a string) and, for a string, its length (2 bytes) and value (UTF-8).
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Mapping

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7
_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")
# The limits botocore's parser enforces (botocore.eventstream).
MAX_HEADER_NAME = 255
MAX_HEADER_VALUE = 32 * 1024 - 1
MAX_HEADERS = 128 * 1024
MAX_PAYLOAD = 16 * 1024 * 1024


def encode_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One event stream message with string-valued `headers` and `payload`."""
    encoded_headers = b"".join(_encode_header(name, value) for name, value in headers.items())
    if len(encoded_headers) > MAX_HEADERS or len(payload) > MAX_PAYLOAD:
        raise ValueError("event stream message too large")
    total = _PRELUDE.size + _CRC.size + len(encoded_headers) + len(payload) + _CRC.size
    prelude = _PRELUDE.pack(total, len(encoded_headers))
    message = prelude + _CRC.pack(zlib.crc32(prelude)) + encoded_headers + payload
    return message + _CRC.pack(zlib.crc32(message))


def _encode_header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    if not 0 < len(raw_name) <= MAX_HEADER_NAME or len(raw_value) > MAX_HEADER_VALUE:
        raise ValueError(f"event stream header out of bounds: {name!r}")
    return (
        struct.pack(">B", len(raw_name)) + raw_name + struct.pack(">BH", _STRING, len(raw_value)) + raw_value
    )


def event(event_type: str, document: Mapping[str, object]) -> bytes:
    """An event message, as AWS REST-JSON services send them (Bedrock's `chunk` among them)."""
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, json.dumps(document).encode())


def exception(exception_type: str, message: str) -> bytes:
    """A modeled error in the middle of a stream (e.g. `throttlingException`)."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_message(headers, json.dumps({"message": message}).encode())


def bedrock_chunk(anthropic_event: Mapping[str, object]) -> bytes:
    """One InvokeModelWithResponseStream `chunk`: the model's event, base64 in `bytes`."""
    data = base64.b64encode(json.dumps(anthropic_event).encode()).decode()
    return event("chunk", {"bytes": data})
