"""Allocation failure on the request path: an internal error, not a crash.

The sanitizer build is started with ASAN_OPTIONS that make every single
allocation over 3 MiB fail (max_allocation_size_mb=3 with
allocator_may_return_null=1), the way a memory limit makes a large request
fail. A 5 MB request body cannot then be held in one piece: the answer must
be InternalFailure (500) in the request's protocol, and the server must go
on answering the next, ordinary request, and stop cleanly. Skipped with the
release build, where those options mean nothing.
"""

import json
import os

import pytest

import e2e_util
from conftest import Server, server_binary

BIG = 5 * 1000 * 1000


def is_asan(path):
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


@pytest.fixture
def starved_server(tmp_path):
    if os.environ.get("SLUICE_ENDPOINT"):
        pytest.skip("needs a server of its own (SLUICE_ENDPOINT is set)")
    binary = server_binary()
    if not os.access(binary, os.X_OK) or not is_asan(binary):
        pytest.skip("needs the ASan build: its allocator can be told to fail "
                    "large allocations")
    old = os.environ.get("ASAN_OPTIONS")
    os.environ["ASAN_OPTIONS"] = ("detect_leaks=1:abort_on_error=0:"
                                  "allocator_may_return_null=1:max_allocation_size_mb=3")
    srv = Server(str(tmp_path))
    try:
        srv.start()
    finally:
        if old is None:
            del os.environ["ASAN_OPTIONS"]
        else:
            os.environ["ASAN_OPTIONS"] = old
    yield srv
    srv.stop()
    srv.assert_clean()


def test_a_request_too_big_for_memory_gets_an_internal_error(starved_server):
    ep = starved_server.endpoint
    sqs = e2e_util.sqs_client(ep)
    url = sqs.create_queue(QueueName="oom")["QueueUrl"]

    status, _, body = e2e_util.query_post(ep, {
        "Action": "SendMessage", "QueueUrl": url, "MessageBody": "a" * BIG})
    assert status == 500, body[:300]
    _, code, _, _ = e2e_util.parse_xml_error(body)
    assert code == "InternalFailure"

    status, headers, body = e2e_util.json_post(
        ep, "SendMessage", {"QueueUrl": url, "MessageBody": "a" * BIG})
    assert status == 500, body[:300]
    assert json.loads(body)["__type"] == "com.amazonaws.sqs#InternalFailure"
    assert headers.get("x-amzn-query-error") == "InternalFailure;Receiver"

    # The server is still there, and ordinary requests work.
    mid = sqs.send_message(QueueUrl=url, MessageBody="small")["MessageId"]
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)["Messages"]
    assert [(m["MessageId"], m["Body"]) for m in got] == [(mid, "small")]
    assert "out of memory reading a request" in starved_server.stderr_text()
