"""Regressions found by comparing sluice with public bug reports against other
EventBridge implementations (LocalStack, moto, ...) and with AWS's documents.
Each test names the report or document that says what AWS does."""

import http.server
import json
import threading
import time

from e2e_util import expect_error
import e2e_util
from test_events_helpers import events, evname, evqueue, receive_all  # noqa: F401
from test_events_targets import endpoint_factory, put, rule_with  # noqa: F401

ROLE = "arn:aws:iam::000000000000:role/events"


def test_event_from_another_bus_is_not_forwarded_to_a_third_bus(events, sqs, evname,
                                                                evqueue):
    """eb-cross-account / eb-bus-to-bus: "If you have three event buses in the
    same account, and set up a rule on the first event bus to forward events
    from the second event bus to a third event bus, those events are not sent
    to the third event bus." """
    second = evname("-b2")
    third = evname("-b3")
    second_arn = events.create_event_bus(Name=second)["EventBusArn"]
    third_arn = events.create_event_bus(Name=third)["EventBusArn"]
    q2_url, q2_arn = evqueue("-q2")
    q3_url, q3_arn = evqueue("-q3")
    _, src = rule_with(events, evname, [{"Id": "fwd", "Arn": second_arn, "RoleArn": ROLE}])
    pattern = json.dumps({"source": [src]})
    r2, r3 = evname("-r2"), evname("-r3")
    events.put_rule(Name=r2, EventBusName=second, EventPattern=pattern)
    events.put_targets(Rule=r2, EventBusName=second, Targets=[
        {"Id": "fwd", "Arn": third_arn, "RoleArn": ROLE}, {"Id": "q", "Arn": q2_arn}])
    events.put_rule(Name=r3, EventBusName=third, EventPattern=pattern)
    events.put_targets(Rule=r3, EventBusName=third, Targets=[{"Id": "q", "Arn": q3_arn}])
    eid = put(events, src)
    [m] = receive_all(sqs, q2_url, expect=1)
    assert json.loads(m["Body"])["id"] == eid
    assert receive_all(sqs, q3_url, timeout=3) == []


def test_delete_event_bus_with_rules_is_refused(events, evname):
    """AWS answers "ValidationException: EventBus can't be deleted since it
    has rules." (hashicorp/terraform-provider-aws#22131, anomalyco/sst#4325);
    the API reference: "All rules associated with this event bus need to be
    deleted."."""
    bus = evname("-bus")
    events.create_event_bus(Name=bus)
    events.put_rule(Name=evname("-r"), EventBusName=bus,
                    EventPattern=json.dumps({"source": ["x"]}))
    expect_error("ValidationException", events.delete_event_bus, Name=bus)
    assert events.describe_event_bus(Name=bus)["Name"] == bus


def test_put_rule_update_ignores_tags(events, evname):
    """PutRule: "If you are updating an existing rule, any tags you specify in
    the PutRule operation are ignored." (confirmed on AWS in boto/boto3#4490)."""
    name = evname()
    arn = events.put_rule(Name=name, EventPattern=json.dumps({"source": ["x"]}),
                          Tags=[{"Key": "a", "Value": "1"}])["RuleArn"]
    events.put_rule(Name=name, EventPattern=json.dumps({"source": ["x"]}),
                    Tags=[{"Key": "b", "Value": "2"}])
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "a", "Value": "1"}]


def _connection(events, evname, invocation):
    return events.create_connection(
        Name=evname("-conn"), AuthorizationType="API_KEY",
        AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key",
                                                  "ApiKeyValue": "s3cret"},
                        "InvocationHttpParameters": invocation})


def test_connection_invocation_parameters_are_described(events, evname):
    """DescribeConnection shows AuthParameters.InvocationHttpParameters (AWS
    recording in localstack tests/aws/services/events/
    test_api_destinations_and_connection.snapshot.json)."""
    conn = _connection(events, evname, {"HeaderParameters": [
        {"Key": "X-Conn", "Value": "c", "IsValueSecret": False}]})
    d = events.describe_connection(Name=conn["ConnectionArn"].split("/")[1])
    assert "InvocationHttpParameters" in d["AuthParameters"]
    hp = d["AuthParameters"]["InvocationHttpParameters"]["HeaderParameters"]
    assert hp[0]["Key"] == "X-Conn"


def test_connection_invocation_parameters_are_sent(events, evname, endpoint_factory):
    """eb-api-destinations: with a connection "you can also include the header,
    body, and query parameters"; localstack/localstack#5229."""
    ep = endpoint_factory()
    conn = _connection(events, evname, {
        "HeaderParameters": [{"Key": "X-Conn", "Value": "c", "IsValueSecret": False}],
        "QueryStringParameters": [{"Key": "cq", "Value": "1", "IsValueSecret": False}]})
    dest = events.create_api_destination(
        Name=evname("-dest"), ConnectionArn=conn["ConnectionArn"],
        InvocationEndpoint=ep.url, HttpMethod="POST")["ApiDestinationArn"]
    _, src = rule_with(events, evname, [{"Id": "h", "Arn": dest, "RoleArn": ROLE}])
    put(events, src)
    e2e_util.wait_until(lambda: ep.requests, timeout=10, what="HTTP request")
    path, headers, _ = ep.requests[0]
    lower = {k.lower(): v for k, v in headers.items()}
    assert lower.get("x-conn") == "c"
    assert "cq=1" in path


def test_connection_parameters_win_over_target_parameters(events, evname,
                                                          endpoint_factory):
    """Target.HttpParameters: "In case of any conflicting keys, values from the
    Connection take precedence." (API reference, botocore model)."""
    ep = endpoint_factory()
    conn = _connection(events, evname, {"HeaderParameters": [
        {"Key": "X-Same", "Value": "from-connection", "IsValueSecret": False}]})
    dest = events.create_api_destination(
        Name=evname("-dest"), ConnectionArn=conn["ConnectionArn"],
        InvocationEndpoint=ep.url, HttpMethod="POST")["ApiDestinationArn"]
    _, src = rule_with(events, evname, [{
        "Id": "h", "Arn": dest, "RoleArn": ROLE,
        "HttpParameters": {"HeaderParameters": {"X-Same": "from-target"}}}])
    put(events, src)
    e2e_util.wait_until(lambda: ep.requests, timeout=10, what="HTTP request")
    lower = {k.lower(): v for k, v in ep.requests[0][1].items()}
    assert lower.get("x-same") == "from-connection"


def test_oauth_connection_is_created_authorizing(events, evname):
    """An OAuth connection answers ConnectionState AUTHORIZING while EventBridge
    fetches the token (AWS recording in localstack
    test_api_destinations_and_connection.snapshot.json)."""
    r = events.create_connection(
        Name=evname("-oauth"), AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
        AuthParameters={"OAuthParameters": {
            "AuthorizationEndpoint": "https://example.com/oauth", "HttpMethod": "POST",
            "ClientParameters": {"ClientID": "client_id", "ClientSecret": "s"}}})
    assert r["ConnectionState"] == "AUTHORIZING"


def test_update_api_destination(events, evname):
    """UpdateApiDestination exists in AWS (same recording: method, endpoint and
    description change, state stays ACTIVE)."""
    conn = _connection(events, evname, {})
    name = evname("-dest")
    events.create_api_destination(
        Name=name, ConnectionArn=conn["ConnectionArn"],
        InvocationEndpoint="https://example.com/api", HttpMethod="POST")
    r = events.update_api_destination(Name=name, HttpMethod="PUT",
                                      InvocationEndpoint="https://example.com/api/v2",
                                      Description="Updated API destination")
    assert r["ApiDestinationState"] == "ACTIVE"
    d = events.describe_api_destination(Name=name)
    assert (d["HttpMethod"], d["InvocationEndpoint"], d["Description"]) == (
        "PUT", "https://example.com/api/v2", "Updated API destination")


def test_negative_retry_after_stops_retrying(events, sqs, evname, evqueue):
    """eb-api-destinations, "API destination error codes": "If Retry-After
    value is negative, EventBridge stops retrying delivery for that event."
    The event then goes to the target's dead-letter queue."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            hits.append(time.time())
            self.send_response(503 if len(hits) == 1 else 200)
            if len(hits) == 1:
                self.send_header("Retry-After", "-1")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        conn = _connection(events, evname, {})
        dest = events.create_api_destination(
            Name=evname("-dest"), ConnectionArn=conn["ConnectionArn"],
            InvocationEndpoint="http://127.0.0.1:%d/h" % httpd.server_address[1],
            HttpMethod="POST")["ApiDestinationArn"]
        dlq_url, dlq_arn = evqueue("-dlq")
        _, src = rule_with(events, evname, [{"Id": "h", "Arn": dest, "RoleArn": ROLE,
                                             "DeadLetterConfig": {"Arn": dlq_arn}}])
        eid = put(events, src)
        got = receive_all(sqs, dlq_url, expect=1, timeout=6)
        assert [json.loads(m["Body"])["id"] for m in got] == [eid]
        assert len(hits) == 1
    finally:
        httpd.shutdown()
        httpd.server_close()
