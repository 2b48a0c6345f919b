"""What Bedrock's runtime answers for an Anthropic model: InvokeModel and its streaming twin.

The request body is an Anthropic Messages request (``anthropic_version``, ``max_tokens``,
``messages``, …). InvokeModel answers one Messages response as JSON; InvokeModelWithResponseStream
answers the same message as Anthropic's streaming events (``message_start`` … ``message_stop``),
each wrapped in an event stream ``chunk`` (see `harness.event_stream`). The last event carries
``amazon-bedrock-invocationMetrics``, as Bedrock adds it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from harness import event_stream


class BadRequest(ValueError):
    """The body is not a Messages request Bedrock would accept (400 ValidationException)."""


def parse(body: bytes) -> dict[str, Any]:
    try:
        request = json.loads(body or b"null")
    except ValueError:
        raise BadRequest("Malformed input request: the body is not JSON") from None
    if not isinstance(request, dict):
        raise BadRequest("Malformed input request: expected a JSON object")
    if not str(request.get("anthropic_version", "")).startswith("bedrock-"):
        raise BadRequest("Malformed input request: anthropic_version must be a bedrock- version")
    max_tokens = request.get("max_tokens")
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise BadRequest("Malformed input request: max_tokens must be a positive integer")
    if not isinstance(request.get("messages"), list) or not request["messages"]:
        raise BadRequest("Malformed input request: messages must be a non-empty list")
    return request


def _words(text: str, limit: int) -> tuple[str, str]:
    """`text` cut to `limit` output tokens (a word each, roughly), and why the message stopped."""
    words = text.split(" ")
    if len(words) <= limit:
        return text, "end_turn"
    return " ".join(words[:limit]), "max_tokens"


def _input_tokens(request: dict[str, Any]) -> int:
    return max(1, len(json.dumps(request.get("messages"))) // 4)


def message(model: str, request: dict[str, Any], text: str) -> dict[str, Any]:
    """InvokeModel's answer: one complete Messages response saying `text`."""
    said, stop_reason = _words(text, request["max_tokens"])
    return {
        "id": f"msg_bdrk_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": said}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": _input_tokens(request), "output_tokens": len(said.split(" "))},
    }


def stream_events(model: str, request: dict[str, Any], text: str) -> Iterator[dict[str, Any]]:
    """The streaming events of the same message, a word per delta."""
    whole = message(model, request, text)
    said = whole["content"][0]["text"]
    start = {**whole, "content": [], "stop_reason": None, "usage": {**whole["usage"], "output_tokens": 1}}
    yield {"type": "message_start", "message": start}
    yield {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    words = said.split(" ")
    for n, word in enumerate(words):
        piece = word if n == 0 else " " + word
        yield {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
    yield {"type": "content_block_stop", "index": 0}
    yield {
        "type": "message_delta",
        "delta": {"stop_reason": whole["stop_reason"], "stop_sequence": None},
        "usage": {"output_tokens": whole["usage"]["output_tokens"]},
    }
    yield {
        "type": "message_stop",
        "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": whole["usage"]["input_tokens"],
            "outputTokenCount": whole["usage"]["output_tokens"],
            "invocationLatency": 1,
            "firstByteLatency": 1,
        },
    }


def stream(model: str, request: dict[str, Any], text: str) -> bytes:
    """InvokeModelWithResponseStream's body: every event as an event stream `chunk`."""
    return b"".join(event_stream.bedrock_chunk(e) for e in stream_events(model, request, text))
