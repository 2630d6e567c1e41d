"""Regressions from trying to break the server with bad bytes: every one
must be an AWS-shaped error in the request's protocol, the server must stay
up, and nothing acknowledged may be lost."""
import json
import urllib.parse
import uuid

import boto3
import pytest

import e2e_util
from e2e_util import parse_xml_error, query_post


def q(endpoint, **params):
    return query_post(endpoint, params)


def raw_form(endpoint, text):
    return e2e_util.raw_request(endpoint, "POST", "/", text, {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": e2e_util.sigv4_header()})


@pytest.mark.parametrize("tail", [
    "Action=TagQueue&QueueUrl={url}&Tag.1.Key=k&Tag.1.Value=%FF",
    "Action=CreateQueue&QueueName={name}2&Tag.1.Key=k&Tag.1.Value=%C3%28",
    "Action=SetQueueAttributes&QueueUrl={url}&Attribute.1.Name=KmsMasterKeyId"
    "&Attribute.1.Value=%ED%A0%80",
    "Action=DeleteMessage&QueueUrl={url}&ReceiptHandle=%FF%00abc",
    "Action=SendMessage&QueueUrl={url}&MessageBody=x&MessageAttribute.1.Name=%FF"
    "&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v",
])
def test_invalid_utf8_in_sqs_parameters(endpoint, sqs, qname, tail):
    name = qname()
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    st, _, body = raw_form(endpoint, tail.format(url=urllib.parse.quote(url, safe=""),
                                                 name=name))
    assert st == 400, body
    _, code, msg, _ = parse_xml_error(body)  # the error itself is well-formed XML
    assert code in ("InvalidParameterValue", "ReceiptHandleIsInvalid"), code
    st, _, _ = e2e_util.raw_request(endpoint, "GET", "/_sluice/health")
    assert st == 200


def sns_client(endpoint):
    return boto3.session.Session().client(
        "sns", endpoint_url=endpoint, region_name=e2e_util.REGION,
        aws_access_key_id="x", aws_secret_access_key="y")


def test_invalid_utf8_in_sns_parameters(endpoint):
    st, _, body = e2e_util.raw_request(
        endpoint, "POST", "/",
        "Action=CreateTopic&Name=t%s&Attributes.entry.1.key=DisplayName"
        "&Attributes.entry.1.value=%%FF" % uuid.uuid4().hex[:6],
        {"Content-Type": "application/x-www-form-urlencoded",
         "Authorization": e2e_util.sigv4_header("sns")})
    assert st == 400
    _, code, _, _ = parse_xml_error(body)
    assert code == "InvalidParameter"


def test_sns_refuses_text_sqs_cannot_take(endpoint, sqs, qname):
    """An acknowledged publish must reach the queue; text SQS refuses is
    refused at the publish instead of being acknowledged and lost."""
    sns = sns_client(endpoint)
    topic = sns.create_topic(Name="bad-" + uuid.uuid4().hex[:6])["TopicArn"]
    url = sqs.create_queue(QueueName=qname())["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery",
                                    AttributeValue="true")
    for bad in ("bad\ufffe", "ctrl\x01"):
        with pytest.raises(Exception):
            sns.publish(TopicArn=topic, Message=bad)
    with pytest.raises(Exception):
        sns.publish(TopicArn=topic, Message="fine", MessageAttributes={
            "a": {"DataType": "String", "StringValue": "x\ufffe"}})
    sns.publish(TopicArn=topic, Message="fine")
    got = e2e_util.drain(sqs, url, expect=1, timeout=5)
    assert [m["Body"] for m in got.values()] == ["fine"]


def test_eventbridge_time_out_of_range(endpoint):
    ev = boto3.session.Session().client(
        "events", endpoint_url=endpoint, region_name=e2e_util.REGION,
        aws_access_key_id="x", aws_secret_access_key="y")
    st, _, body = e2e_util.raw_request(endpoint, "POST", "/", json.dumps({"Entries": [
        {"Source": "a.b", "DetailType": "t", "Detail": "{}", "Time": 1e300}]}), {
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSEvents.PutEvents",
        "Authorization": e2e_util.sigv4_header("events")})
    assert st == 200
    doc = json.loads(body)
    assert doc["FailedEntryCount"] == 1
    assert doc["Entries"][0]["ErrorCode"] == "InvalidArgument"
    assert ev.list_event_buses()["EventBuses"]


def test_request_without_host_header_gets_a_usable_queue_url(endpoint, qname):
    import http.client
    host, port = e2e_util._split(endpoint)
    c = http.client.HTTPConnection(host, port, timeout=10)
    body = "Action=CreateQueue&QueueName=" + qname()
    c.putrequest("POST", "/", skip_host=True)
    c.putheader("Content-Type", "application/x-www-form-urlencoded")
    c.putheader("Content-Length", str(len(body)))
    c.endheaders(body.encode())
    r = c.getresponse()
    text = r.read().decode()
    c.close()
    assert r.status == 200
    assert ":%d/" % port in text


def test_list_subscriptions_of_an_empty_topic(endpoint):
    sns = sns_client(endpoint)
    topic = sns.create_topic(Name="empty-" + uuid.uuid4().hex[:6])["TopicArn"]
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
