"""Helpers shared by the end-to-end tests: clients, the SQS MD5 digests
computed independently of the server, raw HTTP requests for the bad-input
tests, and small polling utilities.

Nothing here knows the server's internals; every expectation comes from
AWS's documentation, the botocore model, or the shared reference vectors.
"""

import base64
import hashlib
import http.client
import json
import struct
import time
import urllib.parse

import boto3
import botocore.config
import botocore.exceptions
import pytest

REGION = "us-east-1"
ACCOUNT = "000000000000"
DUMMY_KEY = "AKIAIOSFODNN7EXAMPLE"
DUMMY_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SQS_XMLNS = "http://queue.amazonaws.com/doc/2012-11-05/"
REFERENCE_DIR = "/work/shared/reference"


def sqs_client(endpoint, validate=True, read_timeout=40):
    """A boto3 SQS client (Query protocol on boto3 1.26) for endpoint.

    No retries, so that a failure shows as it happened; validate=False
    turns off botocore's client-side parameter checks so that invalid
    requests reach the server.
    """
    cfg = botocore.config.Config(
        region_name=REGION, retries={"total_max_attempts": 1, "mode": "standard"},
        read_timeout=read_timeout, connect_timeout=5,
        parameter_validation=validate)
    return boto3.session.Session().client(
        "sqs", endpoint_url=endpoint, aws_access_key_id=DUMMY_KEY,
        aws_secret_access_key=DUMMY_SECRET, config=cfg)


def error_of(excinfo):
    """(code, http status, message) of a botocore ClientError."""
    resp = excinfo.value.response
    return (resp["Error"].get("Code"),
            resp["ResponseMetadata"].get("HTTPStatusCode"),
            resp["Error"].get("Message"))


def expect_error(code, fn, *args, status=400, **kwargs):
    """Calls fn, which must fail with AWS error code and HTTP status."""
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kwargs)
    got_code, got_status, msg = error_of(ei)
    assert (got_code, got_status) == (code, status), \
        "expected %s/%s, got %s/%s: %s" % (code, status, got_code,
                                           got_status, msg)
    return msg


# ------------------------------------------------------------- MD5 digests

def md5_hex(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.md5(data).hexdigest()


def _lp(b):
    return struct.pack(">I", len(b)) + b


def md5_of_attributes(attrs):
    """MD5OfMessageAttributes of a boto3-style attribute map.

    Names sorted by UTF-8 bytes; each: len+name, len+DataType, then
    0x01 len+value for String/Number types or 0x02 len+bytes for Binary.
    BinaryValue may be bytes (boto3) or base64 text (reference vectors).
    """
    buf = b""
    for name in sorted(attrs, key=lambda n: n.encode("utf-8")):
        a = attrs[name]
        buf += _lp(name.encode("utf-8")) + _lp(a["DataType"].encode("utf-8"))
        if a["DataType"].startswith("Binary"):
            v = a["BinaryValue"]
            if isinstance(v, str):
                v = base64.b64decode(v)
            buf += b"\x02" + _lp(v)
        else:
            buf += b"\x01" + _lp(a["StringValue"].encode("utf-8"))
    return hashlib.md5(buf).hexdigest()


def load_md5_vectors():
    with open(REFERENCE_DIR + "/sqs-md5-vectors.json") as f:
        return json.load(f)


# ------------------------------------------------------------- raw HTTP

def _split(endpoint):
    u = urllib.parse.urlsplit(endpoint)
    return u.hostname, u.port


def raw_request(endpoint, method, path, body=b"", headers=None, timeout=30):
    """One HTTP request; returns (status, headers dict lower-cased, body)."""
    host, port = _split(endpoint)
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        h = {"Host": "%s:%d" % (host, port)}
        h.update(headers or {})
        if isinstance(body, str):
            body = body.encode("utf-8")
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def sigv4_header(service="sqs"):
    """A well-formed but unverifiable SigV4 Authorization header."""
    date = time.strftime("%Y%m%d", time.gmtime())
    return ("AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=%s"
            % (DUMMY_KEY, date, REGION, service, "0" * 64))


def query_post(endpoint, params, path="/", raw_body=None):
    """A Query-protocol POST; params is a dict or list of pairs."""
    body = raw_body if raw_body is not None else urllib.parse.urlencode(params)
    return raw_request(endpoint, "POST", path, body, {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        "Authorization": sigv4_header()})


def json_post(endpoint, action, payload, raw_body=None, target=None):
    """An AWS JSON 1.0 POST as the SDKs send it for SQS."""
    body = raw_body if raw_body is not None else json.dumps(payload)
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        "Authorization": sigv4_header()}
    if target is not False:
        headers["X-Amz-Target"] = target or ("AmazonSQS." + action)
    return raw_request(endpoint, "POST", "/", body, headers)


def parse_xml_error(body):
    """(Type, Code, Message, RequestId) of a Query ErrorResponse document."""
    import xml.etree.ElementTree as ET
    root = ET.fromstring(body)
    ns = ""
    if root.tag.startswith("{"):
        ns = root.tag[:root.tag.index("}") + 1]
    assert root.tag == ns + "ErrorResponse", body
    err = root.find(ns + "Error")
    assert err is not None, body

    def text(parent, tag):
        el = parent.find(ns + tag)
        return el.text if el is not None else None
    return (text(err, "Type"), text(err, "Code"), text(err, "Message"),
            text(root, "RequestId"))


# ------------------------------------------------------------- polling

def wait_until(pred, timeout=10.0, interval=0.1, what="condition"):
    """Polls pred() until it returns a truthy value; returns that value."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out after %ss waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


def queue_attrs(client, url, *names):
    names = list(names) or ["All"]
    return client.get_queue_attributes(QueueUrl=url,
                                       AttributeNames=names).get("Attributes", {})


def drain(client, url, expect=None, timeout=10.0, visibility=30,
          attribute_names=("All",), message_attribute_names=("All",)):
    """Receives until expect messages are in hand (or none arrive for a
    short while when expect is None); returns {MessageId: message}."""
    got = {}
    deadline = time.time() + timeout
    idle = 0
    while time.time() < deadline:
        if expect is not None and len(got) >= expect:
            break
        r = client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
            VisibilityTimeout=visibility,
            AttributeNames=list(attribute_names),
            MessageAttributeNames=list(message_attribute_names))
        msgs = r.get("Messages", [])
        if not msgs:
            idle += 1
            if expect is None and idle >= 2:
                break
            continue
        idle = 0
        for m in msgs:
            got[m["MessageId"]] = m
    return got
