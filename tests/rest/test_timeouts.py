"""A silent or short request does not hold a connection (issue #13): the real server
closes a connection that sends no request head in time and answers 408 to a body shorter
than its Content-Length, storing nothing. Limits shortened to 1 s for the test."""

from __future__ import annotations

import socket
import uuid

import httpx
import pytest

from ..conftest import LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def impatient(mongodb_uri: str):
    server = LiveServer(mongodb_uri, f"timeouts_{uuid.uuid4().hex[:8]}", extra_env={
        "FHIR_REQUEST_HEAD_SECONDS": "1", "FHIR_REQUEST_BODY_SECONDS": "1"})
    try:
        yield server
    finally:
        server.stop()


def _exchange(port: int, payload: bytes) -> bytes:
    """What the server sends back before it closes (20 s at most)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as connection:
        connection.sendall(payload)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
        return received


def test_a_connection_that_sends_nothing_is_closed(impatient):
    assert _exchange(impatient.port, b"") == b""
    assert _exchange(impatient.port, b"GET /fhir/metadata HTTP/1.1\r\nHost: x\r\n") == b""


def test_a_body_shorter_than_its_length_is_408_and_stores_nothing(impatient):
    head = (b"POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: application/fhir+json\r\nContent-Length: 100\r\n\r\n")
    answer = _exchange(impatient.port, head + b'{"resourceType": "Patient"')
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"OperationOutcome" in answer
    found = httpx.get(f"{impatient.base}/Patient?_summary=count", timeout=30).json()
    assert found["total"] == 0
