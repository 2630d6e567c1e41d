"""The SQS wire protocols at the HTTP level, with raw requests: the Query
protocol (form-encoded POST or GET, XML answers) and AWS JSON 1.0
(X-Amz-Target, JSON answers, query-compatible error header).

Mostly bad input: each malformed request must get an AWS-shaped error in
the protocol it came in (an XML ErrorResponse with Type/Code/Message and a
RequestId, or a JSON body with __type), never a crash, a hang or HTML.
"""

import json
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from e2e_util import (
    ACCOUNT, SQS_XMLNS, json_post, md5_hex, parse_xml_error, query_post, raw_request,
    sqs_client)

NS = "{%s}" % SQS_XMLNS


def xml_error(status_body_headers):
    status, headers, body = status_body_headers
    assert 400 <= status < 500, (status, body[:500])
    assert "xml" in headers.get("content-type", ""), headers
    typ, code, msg, rid = parse_xml_error(body)
    assert typ == "Sender", body
    assert code, body
    assert rid, body
    return code


def json_error(resp):
    status, headers, body = resp
    assert 400 <= status < 500, (status, body[:500])
    assert "json" in headers.get("content-type", ""), headers
    doc = json.loads(body)
    assert "__type" in doc, doc
    return doc, headers


# ------------------------------------------------------------ Query: success

def test_query_success_document_shape(endpoint, qname):
    name = qname()
    status, headers, body = query_post(endpoint, {
        "Action": "CreateQueue", "Version": "2012-11-05", "QueueName": name})
    assert status == 200, body
    assert "xml" in headers.get("content-type", "")
    root = ET.fromstring(body)
    assert root.tag == NS + "CreateQueueResponse"
    url = root.find(NS + "CreateQueueResult/" + NS + "QueueUrl").text
    assert url == "%s/%s/%s" % (endpoint, ACCOUNT, name)
    rid = root.find(NS + "ResponseMetadata/" + NS + "RequestId")
    assert rid is not None and rid.text


def test_query_get_request(endpoint, qname):
    name = qname()
    query_post(endpoint, {"Action": "CreateQueue", "QueueName": name})
    qs = urllib.parse.urlencode({"Action": "GetQueueUrl",
                                 "Version": "2012-11-05", "QueueName": name})
    status, _, body = raw_request(endpoint, "GET", "/?" + qs)
    assert status == 200, body
    assert name.encode() in body


def test_query_presigned_style_parameters_are_ignored(endpoint):
    """Query-string auth (X-Amz-* parameters) is not part of the action's
    input and must not be rejected as an unknown parameter."""
    qs = urllib.parse.urlencode({
        "Action": "ListQueues", "Version": "2012-11-05",
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": "AKIDEXAMPLE/20260101/us-east-1/sqs/aws4_request",
        "X-Amz-Date": "20260101T000000Z", "X-Amz-Expires": "300",
        "X-Amz-SignedHeaders": "host", "X-Amz-Signature": "0" * 64})
    status, _, body = raw_request(endpoint, "GET", "/?" + qs)
    assert status == 200, body


def test_signature_scope_of_another_region_is_accepted(endpoint, qname):
    """Any signature is accepted; ARNs keep the server's own region."""
    name = qname()
    body = urllib.parse.urlencode({"Action": "CreateQueue", "QueueName": name})
    status, _, raw = raw_request(endpoint, "POST", "/", body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/"
                         "eu-west-1/sqs/aws4_request, SignedHeaders=host, "
                         "Signature=" + "1" * 64})
    assert status == 200, raw
    status, _, raw = query_post(endpoint, {
        "Action": "GetQueueAttributes", "AttributeName.1": "QueueArn",
        "QueueUrl": "%s/%s/%s" % (endpoint, ACCOUNT, name)})
    assert ("arn:aws:sqs:us-east-1:%s:%s" % (ACCOUNT, name)).encode() in raw


def test_query_action_on_queue_path(endpoint, qname, sqs):
    """Older SDKs POST to the queue URL and leave QueueUrl out."""
    name = qname()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    status, _, body = query_post(endpoint, {
        "Action": "SendMessage", "Version": "2012-11-05",
        "MessageBody": "via path"}, path="/%s/%s" % (ACCOUNT, name))
    assert status == 200, body
    m = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert m["Body"] == "via path"


def test_queue_url_follows_host_header(endpoint, qname):
    name = qname()
    port = endpoint.rsplit(":", 1)[1]
    body = urllib.parse.urlencode({"Action": "CreateQueue",
                                   "QueueName": name})
    status, _, raw = raw_request(endpoint, "POST", "/", body, {
        "Host": "localhost:%s" % port,
        "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, raw
    assert ("http://localhost:%s/%s/%s" % (port, ACCOUNT, name)).encode() in raw


def test_queue_url_with_other_host_name_works(endpoint, sqs, qname):
    """Clients often hold URLs minted for another host name (localhost vs
    127.0.0.1, a container name); the queue is found by account and name."""
    name = qname()
    sqs.create_queue(QueueName=name)
    port = endpoint.rsplit(":", 1)[1]
    other = "http://localhost:%s/%s/%s" % (port, ACCOUNT, name)
    sqs.send_message(QueueUrl=other, MessageBody="via localhost")
    m = sqs.receive_message(QueueUrl=other)["Messages"][0]
    assert m["Body"] == "via localhost"


def test_query_xml_escaping_of_body(endpoint, sqs, qname):
    url = sqs.create_queue(QueueName=qname())["QueueUrl"]
    body = "<tag attr='1'>&amp; \"quoted\" ]]> </tag>"
    query_post(endpoint, {"Action": "SendMessage", "QueueUrl": url,
                          "MessageBody": body})
    status, _, raw = query_post(endpoint, {"Action": "ReceiveMessage",
                                           "QueueUrl": url})
    assert status == 200
    root = ET.fromstring(raw)  # must be well-formed
    got = root.find(NS + "ReceiveMessageResult/" + NS + "Message/" + NS +
                    "Body").text
    assert got == body


# ------------------------------------------------------------ Query: errors

def test_query_unknown_action(endpoint):
    code = xml_error(query_post(endpoint, {"Action": "MakeCoffee",
                                           "Version": "2012-11-05"}))
    assert code == "InvalidAction"


def test_query_missing_action(endpoint):
    code = xml_error(query_post(endpoint, {"Version": "2012-11-05",
                                           "QueueName": "x"}))
    assert code == "MissingAction"   # AWS's common error for a Query call without Action


def test_query_missing_required_parameter(endpoint, sqs, qname):
    url = sqs.create_queue(QueueName=qname())["QueueUrl"]
    code = xml_error(query_post(endpoint, {"Action": "SendMessage",
                                           "QueueUrl": url}))
    assert code == "MissingParameter"
    code = xml_error(query_post(endpoint, {"Action": "CreateQueue"}))
    assert code == "MissingParameter"


def test_query_unknown_queue(endpoint):
    code = xml_error(query_post(endpoint, {
        "Action": "SendMessage", "MessageBody": "x",
        "QueueUrl": endpoint + "/%s/does-not-exist-q" % ACCOUNT}))
    assert code == "AWS.SimpleQueueService.NonExistentQueue"


@pytest.mark.parametrize("param,value", [
    ("MaxNumberOfMessages", "abc"), ("MaxNumberOfMessages", "1.5"),
    ("VisibilityTimeout", "ten"), ("WaitTimeSeconds", "99999999999999999999"),
])
def test_query_wrong_types(endpoint, sqs, qname, param, value):
    url = sqs.create_queue(QueueName=qname())["QueueUrl"]
    code = xml_error(query_post(endpoint, {"Action": "ReceiveMessage",
                                           "QueueUrl": url, param: value}))
    assert code in ("InvalidParameterValue", "MalformedQueryString",
                    "InvalidQueryParameter")


def test_query_malformed_form_encoding(endpoint, sqs, qname):
    url = sqs.create_queue(QueueName=qname())["QueueUrl"]
    raw = ("Action=SendMessage&QueueUrl=%s&MessageBody=bad%%zzescape%%"
           % urllib.parse.quote(url, safe=""))
    code = xml_error(query_post(endpoint, None, raw_body=raw))
    assert code in ("MalformedQueryString", "InvalidParameterValue",
                    "InvalidQueryParameter")


def test_query_invalid_utf8(endpoint, sqs, qname):
    url = sqs.create_queue(QueueName=qname())["QueueUrl"]
    raw = ("Action=SendMessage&QueueUrl=%s&MessageBody=ok%%FF%%FEbytes"
           % urllib.parse.quote(url, safe=""))
    status, headers, body = query_post(endpoint, None, raw_body=raw)
    if status == 200:
        # Accepted only if what is stored is valid text (U+FFFD repair).
        m = sqs.receive_message(QueueUrl=url)["Messages"][0]
        assert "\ufffd" in m["Body"]
        return
    code = xml_error((status, headers, body))
    assert code in ("InvalidMessageContents", "InvalidParameterValue",
                    "MalformedQueryString")


def test_query_invalid_utf8_in_queue_name(endpoint):
    code = xml_error(query_post(endpoint, None,
                                raw_body="Action=CreateQueue&QueueName=q%C3%28"))
    assert code in ("InvalidParameterValue", "MalformedQueryString")


def test_query_oversized_request(endpoint, sqs, qname):
    url = sqs.create_queue(QueueName=qname())["QueueUrl"]
    raw = ("Action=SendMessage&QueueUrl=%s&MessageBody=%s"
           % (urllib.parse.quote(url, safe=""), "a" * (3 * 1024 * 1024)))
    status, headers, body = query_post(endpoint, None, raw_body=raw)
    assert status in (400, 413), (status, body[:300])
    if body:
        assert "xml" in headers.get("content-type", "")
        parse_xml_error(body)
    # The server is still fine afterwards.
    sqs.send_message(QueueUrl=url, MessageBody="still alive")


# ------------------------------------------------------------ JSON: success

def test_json_create_send_receive(endpoint, qname):
    name = qname()
    status, headers, body = json_post(endpoint, "CreateQueue",
                                      {"QueueName": name})
    assert status == 200, body
    assert headers.get("content-type", "").startswith(
        "application/x-amz-json-1.0")
    url = json.loads(body)["QueueUrl"]
    assert url == "%s/%s/%s" % (endpoint, ACCOUNT, name)
    status, _, body = json_post(endpoint, "SendMessage", {
        "QueueUrl": url, "MessageBody": "json body", "DelaySeconds": 0,
        "MessageAttributes": {
            "bin": {"DataType": "Binary", "BinaryValue": "AP8QgA=="},
            "str": {"DataType": "String", "StringValue": "v"}}})
    assert status == 200, body
    sent = json.loads(body)
    assert sent["MD5OfMessageBody"] == md5_hex("json body")
    status, _, body = json_post(endpoint, "ReceiveMessage", {
        "QueueUrl": url, "MaxNumberOfMessages": 10,
        "MessageAttributeNames": ["All"], "AttributeNames": ["All"]})
    assert status == 200, body
    m = json.loads(body)["Messages"][0]
    assert m["Body"] == "json body"
    assert m["MessageId"] == sent["MessageId"]
    assert m["MessageAttributes"]["bin"] == {"DataType": "Binary",
                                             "BinaryValue": "AP8QgA=="}
    assert m["MessageAttributes"]["str"] == {"DataType": "String",
                                             "StringValue": "v"}
    assert isinstance(m["Attributes"]["SentTimestamp"], str)


# ------------------------------------------------------------ JSON: errors

def test_json_unknown_queue(endpoint):
    doc, headers = json_error(json_post(endpoint, "GetQueueUrl",
                                        {"QueueName": "no-such-queue-json"}))
    assert doc["__type"] == "com.amazonaws.sqs#QueueDoesNotExist"
    assert headers.get("x-amzn-query-error") == \
        "AWS.SimpleQueueService.NonExistentQueue;Sender"
    assert doc.get("message") or doc.get("Message")


def test_json_queue_already_exists(endpoint, qname):
    name = qname()
    json_post(endpoint, "CreateQueue", {"QueueName": name,
                                        "Attributes": {"DelaySeconds": "1"}})
    doc, headers = json_error(json_post(endpoint, "CreateQueue", {
        "QueueName": name, "Attributes": {"DelaySeconds": "2"}}))
    assert doc["__type"] == "com.amazonaws.sqs#QueueNameExists"
    assert headers.get("x-amzn-query-error") == "QueueAlreadyExists;Sender"


def test_json_batch_errors(endpoint, qname):
    _, _, body = json_post(endpoint, "CreateQueue", {"QueueName": qname()})
    url = json.loads(body)["QueueUrl"]
    doc, headers = json_error(json_post(endpoint, "SendMessageBatch",
                                        {"QueueUrl": url, "Entries": []}))
    assert doc["__type"] == "com.amazonaws.sqs#EmptyBatchRequest"
    assert headers.get("x-amzn-query-error") == \
        "AWS.SimpleQueueService.EmptyBatchRequest;Sender"
    doc, headers = json_error(json_post(endpoint, "DeleteMessageBatch", {
        "QueueUrl": url, "Entries": [{"Id": "a", "ReceiptHandle": "x"},
                                     {"Id": "a", "ReceiptHandle": "y"}]}))
    assert doc["__type"] == "com.amazonaws.sqs#BatchEntryIdsNotDistinct"


def test_json_receipt_handle_invalid(endpoint, qname):
    _, _, body = json_post(endpoint, "CreateQueue", {"QueueName": qname()})
    url = json.loads(body)["QueueUrl"]
    doc, headers = json_error(json_post(endpoint, "DeleteMessage", {
        "QueueUrl": url, "ReceiptHandle": "garbage"}))
    assert doc["__type"] == "com.amazonaws.sqs#ReceiptHandleIsInvalid"
    assert headers.get("x-amzn-query-error", "").startswith(
        "ReceiptHandleIsInvalid;")


def test_json_unmodeled_error_has_query_code(endpoint, qname):
    _, _, body = json_post(endpoint, "CreateQueue", {"QueueName": qname()})
    url = json.loads(body)["QueueUrl"]
    doc, headers = json_error(json_post(endpoint, "SendMessage", {
        "QueueUrl": url, "MessageBody": "x", "DelaySeconds": 901}))
    assert headers.get("x-amzn-query-error") == "InvalidParameterValue;Sender"
    doc, headers = json_error(json_post(endpoint, "SetQueueAttributes", {
        "QueueUrl": url, "Attributes": {"VisibilityTimeout": "-5"}}))
    assert headers.get("x-amzn-query-error") == "InvalidAttributeValue;Sender"


def test_json_unknown_operation(endpoint):
    doc, _ = json_error(json_post(endpoint, "MakeCoffee", {}))
    assert doc["__type"].endswith("UnknownOperationException")


def test_json_invalid_json(endpoint):
    doc, _ = json_error(json_post(endpoint, "ListQueues", None,
                                  raw_body='{"QueueNamePrefix": '))
    assert doc["__type"].endswith("SerializationException")


def test_json_body_not_an_object(endpoint):
    doc, _ = json_error(json_post(endpoint, "ListQueues", None,
                                  raw_body='["a", "b"]'))
    assert doc["__type"].endswith("SerializationException")


@pytest.mark.parametrize("action,payload", [
    ("ReceiveMessage", {"MaxNumberOfMessages": "5"}),
    ("ReceiveMessage", {"WaitTimeSeconds": 1.5}),
    ("ReceiveMessage", {"MessageAttributeNames": "All"}),
    ("SendMessage", {"MessageBody": 42}),
    ("SendMessage", {"MessageBody": "x", "DelaySeconds": True}),
    ("SendMessage", {"MessageBody": "x", "MessageAttributes": []}),
])
def test_json_wrong_types(endpoint, qname, action, payload):
    _, _, body = json_post(endpoint, "CreateQueue", {"QueueName": qname()})
    url = json.loads(body)["QueueUrl"]
    doc, _ = json_error(json_post(endpoint, action,
                                  dict(payload, QueueUrl=url)))
    assert doc["__type"].endswith("SerializationException"), doc


def test_json_wrong_type_for_queue_name(endpoint):
    doc, _ = json_error(json_post(endpoint, "CreateQueue", {"QueueName": 123}))
    assert doc["__type"].endswith("SerializationException"), doc


def test_json_invalid_utf8(endpoint, qname):
    _, _, body = json_post(endpoint, "CreateQueue", {"QueueName": qname()})
    url = json.loads(body)["QueueUrl"]
    raw = b'{"QueueUrl": "' + url.encode() + b'", "MessageBody": "ok\xff\xfe"}'
    doc, _ = json_error(json_post(endpoint, "SendMessage", None, raw_body=raw))
    assert doc["__type"]


def test_json_missing_required_member(endpoint):
    doc, headers = json_error(json_post(endpoint, "CreateQueue", {}))
    assert doc["__type"]


def test_json_oversized_request(endpoint, qname, sqs):
    _, _, body = json_post(endpoint, "CreateQueue", {"QueueName": qname()})
    url = json.loads(body)["QueueUrl"]
    status, headers, body = json_post(endpoint, "SendMessage", {
        "QueueUrl": url, "MessageBody": "b" * (3 * 1024 * 1024)})
    assert status in (400, 413), (status, body[:300])
    if body:
        assert "__type" in json.loads(body)
    sqs.send_message(QueueUrl=url, MessageBody="still alive")


def test_json_empty_body(endpoint):
    status, headers, body = json_post(endpoint, "ListQueues", None,
                                      raw_body=b"")
    # AWS treats an empty body as an empty request object for ListQueues.
    if status == 200:
        assert "QueueUrls" in json.loads(body) or json.loads(body) == {}
    else:
        json_error((status, headers, body))


def test_unknown_path_gets_an_answer(endpoint):
    status, _, _ = raw_request(endpoint, "GET", "/no/such/thing/here")
    assert 400 <= status < 500


def test_server_survives_bad_input(endpoint):
    """After all of the above, an ordinary client still works."""
    assert "ResponseMetadata" in sqs_client(endpoint).list_queues()


# ------------------------------------------------------- embedded NUL bytes
#
# %00 (Query) or \u0000 (JSON) inside a value is a character like any other:
# a server must neither cut the value short at it nor accept the shortened
# value. None of these fields allows the character.

def _nul_queue(sqs, qname):
    return sqs.create_queue(QueueName=qname())["QueueUrl"]


def test_nul_in_queue_name_query(endpoint, sqs, qname):
    name = qname()
    code = xml_error(query_post(endpoint, {"Action": "CreateQueue",
                                           "QueueName": name + "\x00tail"}))
    assert code == "InvalidParameterValue"
    with pytest.raises(Exception):
        sqs.get_queue_url(QueueName=name)  # no truncated twin was created


def test_nul_in_queue_name_json(endpoint, sqs, qname):
    name = qname()
    doc, headers = json_error(json_post(endpoint, "CreateQueue",
                                        {"QueueName": name + "\x00tail"}))
    assert headers.get("x-amzn-query-error", "").startswith(
        "InvalidParameterValue")
    with pytest.raises(Exception):
        sqs.get_queue_url(QueueName=name)


def test_nul_in_get_queue_url(sqs, qname):
    name = qname()
    sqs.create_queue(QueueName=name)
    with pytest.raises(Exception) as ei:
        sqs.get_queue_url(QueueName=name + "\x00tail")
    assert ei.value.response["Error"]["Code"] in (
        "AWS.SimpleQueueService.NonExistentQueue", "InvalidParameterValue")


def test_nul_in_queue_url(endpoint, sqs, qname):
    url = _nul_queue(sqs, qname)
    code = xml_error(query_post(endpoint, {"Action": "SendMessage",
                                           "QueueUrl": url + "\x00tail",
                                           "MessageBody": "x"}))
    assert code in ("AWS.SimpleQueueService.NonExistentQueue",
                    "InvalidParameterValue", "InvalidAddress")


def test_nul_after_receipt_handle(sqs_novalidate, qname):
    sqs = sqs_novalidate
    url = _nul_queue(sqs, qname)
    sqs.send_message(QueueUrl=url, MessageBody="keep me")
    h = sqs.receive_message(QueueUrl=url, VisibilityTimeout=60)[
        "Messages"][0]["ReceiptHandle"]
    with pytest.raises(Exception) as ei:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=h + "\x00garbage")
    assert ei.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert a["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_nul_in_batch_entry_id(sqs_novalidate, qname):
    url = _nul_queue(sqs_novalidate, qname)
    with pytest.raises(Exception) as ei:
        sqs_novalidate.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a\x00b", "MessageBody": "x"}])
    assert ei.value.response["Error"]["Code"] == \
        "AWS.SimpleQueueService.InvalidBatchEntryId"


def test_nul_in_queue_attribute_value(sqs_novalidate, qname):
    url = _nul_queue(sqs_novalidate, qname)
    with pytest.raises(Exception) as ei:
        sqs_novalidate.set_queue_attributes(
            QueueUrl=url, Attributes={"DelaySeconds": "1\x00junk"})
    assert ei.value.response["Error"]["Code"] == "InvalidAttributeValue"


@pytest.mark.parametrize("attrs", [
    {"a\x00b": {"DataType": "String", "StringValue": "v"}},
    {"a": {"DataType": "String\x00junk", "StringValue": "v"}},
], ids=["name", "type"])
def test_nul_in_message_attribute(sqs_novalidate, qname, attrs):
    url = _nul_queue(sqs_novalidate, qname)
    with pytest.raises(Exception) as ei:
        sqs_novalidate.send_message(QueueUrl=url, MessageBody="x",
                                    MessageAttributes=attrs)
    assert ei.value.response["Error"]["Code"] == "InvalidParameterValue"
