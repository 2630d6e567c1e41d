"""Connections and API destinations beyond create/delete: UpdateConnection,
DeauthorizeConnection and UpdateApiDestination with their states, the
connection's InvocationHttpParameters, Retry-After, OAuth client
credentials, and that none of it survives a restart wrongly."""

import glob
import http.server
import json
import threading
import time

import pytest

import e2e_util
from e2e_util import expect_error
from test_events_helpers import events, events_client, evname, evqueue, receive_all  # noqa: F401
from test_events_targets import endpoint_factory, put, rule_with  # noqa: F401

ROLE = "arn:aws:iam::000000000000:role/events"


class Scripted:
    """A local HTTP server: handler(server, method, path, headers, body)
    returns (status, headers dict, body bytes); requests are recorded."""

    def __init__(self, handler):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode()
                outer.requests.append((self.command, self.path, dict(self.headers), body,
                                       time.time()))
                status, headers, out = handler(outer, self.command, self.path, self.headers,
                                               body)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_POST = do_GET = do_PUT = _any

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted():
    made = []

    def make(handler):
        s = Scripted(handler)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


def _ok(*_):
    return 200, {}, b""


def _api_key_connection(events, evname, invocation=None, value="s3cret"):
    auth = {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": value}}
    if invocation is not None:
        auth["InvocationHttpParameters"] = invocation
    return events.create_connection(Name=evname("-conn"), AuthorizationType="API_KEY",
                                    AuthParameters=auth)


def _destination(events, evname, conn_arn, url, method="POST"):
    return events.create_api_destination(Name=evname("-dest"), ConnectionArn=conn_arn,
                                         InvocationEndpoint=url,
                                         HttpMethod=method)["ApiDestinationArn"]


def test_update_connection_states_and_values(events, evname, endpoint_factory):
    ep = endpoint_factory()
    conn = _api_key_connection(events, evname)
    name = conn["ConnectionArn"].split("/")[1]
    r = events.update_connection(Name=name, Description="d2", AuthParameters={
        "ApiKeyAuthParameters": {"ApiKeyValue": "n3w"}})
    assert r["ConnectionState"] == "UPDATING"
    assert r["ConnectionArn"] == conn["ConnectionArn"]
    d = events.describe_connection(Name=name)
    assert d["ConnectionState"] == "AUTHORIZED"
    assert d["Description"] == "d2"
    assert d["AuthParameters"]["ApiKeyAuthParameters"] == {"ApiKeyName": "x-api-key"}
    dest = _destination(events, evname, conn["ConnectionArn"], ep.url)
    _, src = rule_with(events, evname, [{"Id": "h", "Arn": dest, "RoleArn": ROLE}])
    put(events, src)
    e2e_util.wait_until(lambda: ep.requests, timeout=10, what="HTTP request")
    assert {k.lower(): v for k, v in ep.requests[0][1].items()}["x-api-key"] == "n3w"
    # another type needs its own parameters
    expect_error("ValidationException", events.update_connection, Name=name,
                 AuthorizationType="BASIC")
    events.update_connection(Name=name, AuthorizationType="BASIC", AuthParameters={
        "BasicAuthParameters": {"Username": "u", "Password": "p"}})
    d = events.describe_connection(Name=name)
    assert d["AuthorizationType"] == "BASIC"
    assert d["AuthParameters"] == {"BasicAuthParameters": {"Username": "u"}}
    expect_error("ResourceNotFoundException", events.update_connection, Name=evname("-none"))
    # parameters of another type than the connection's are refused
    expect_error("ValidationException", events.update_connection, Name=name,
                 AuthParameters={"ApiKeyAuthParameters": {"ApiKeyValue": "x"}})


def test_deauthorized_connection_stops_its_destinations(events, evname, endpoint_factory):
    ep = endpoint_factory()
    conn = _api_key_connection(events, evname)
    name = conn["ConnectionArn"].split("/")[1]
    dest_name = evname("-dest")
    dest = events.create_api_destination(
        Name=dest_name, ConnectionArn=conn["ConnectionArn"], InvocationEndpoint=ep.url,
        HttpMethod="POST")["ApiDestinationArn"]
    r = events.deauthorize_connection(Name=name)
    assert r["ConnectionState"] == "DEAUTHORIZING"
    assert events.describe_connection(Name=name)["ConnectionState"] == "DEAUTHORIZED"
    assert events.describe_api_destination(Name=dest_name)["ApiDestinationState"] == "INACTIVE"
    _, src = rule_with(events, evname, [{"Id": "h", "Arn": dest, "RoleArn": ROLE}])
    put(events, src)
    time.sleep(2.5)
    assert ep.requests == []
    # authorized again with a new secret: the waiting event goes out
    events.update_connection(Name=name, AuthParameters={
        "ApiKeyAuthParameters": {"ApiKeyValue": "again"}})
    assert events.describe_api_destination(Name=dest_name)["ApiDestinationState"] == "ACTIVE"
    e2e_util.wait_until(lambda: ep.requests, timeout=15, what="delivery after re-authorizing")
    assert {k.lower(): v for k, v in ep.requests[0][1].items()}["x-api-key"] == "again"
    expect_error("ResourceNotFoundException", events.deauthorize_connection,
                 Name=evname("-none"))


def test_update_api_destination_checks(events, evname):
    conn = _api_key_connection(events, evname)
    name = evname("-dest")
    events.create_api_destination(Name=name, ConnectionArn=conn["ConnectionArn"],
                                  InvocationEndpoint="https://example.com/a", HttpMethod="POST")
    expect_error("ValidationException", events.update_api_destination, Name=name,
                 InvocationEndpoint="ftp://x")
    expect_error("ResourceNotFoundException", events.update_api_destination, Name=name,
                 ConnectionArn=conn["ConnectionArn"][:-3] + "000")
    expect_error("ResourceNotFoundException", events.update_api_destination,
                 Name=evname("-none"), HttpMethod="GET")
    events.update_api_destination(Name=name, InvocationRateLimitPerSecond=10)
    d = events.describe_api_destination(Name=name)
    assert (d["InvocationRateLimitPerSecond"], d["HttpMethod"]) == (10, "POST")


def test_secret_invocation_values_are_hidden_but_sent(events, evname, endpoint_factory):
    ep = endpoint_factory()
    conn = _api_key_connection(events, evname, {
        "HeaderParameters": [{"Key": "X-Secret", "Value": "hush", "IsValueSecret": True}],
        "BodyParameters": [{"Key": "extra", "Value": "b", "IsValueSecret": False}]})
    d = events.describe_connection(Name=conn["ConnectionArn"].split("/")[1])
    inv = d["AuthParameters"]["InvocationHttpParameters"]
    assert inv["HeaderParameters"] == [{"Key": "X-Secret", "IsValueSecret": True}]
    assert inv["BodyParameters"] == [{"Key": "extra", "Value": "b", "IsValueSecret": False}]
    dest = _destination(events, evname, conn["ConnectionArn"], ep.url)
    _, src = rule_with(events, evname, [{"Id": "h", "Arn": dest, "RoleArn": ROLE}])
    eid = put(events, src)
    e2e_util.wait_until(lambda: ep.requests, timeout=10, what="HTTP request")
    _, headers, body = ep.requests[0]
    assert {k.lower(): v for k, v in headers.items()}["x-secret"] == "hush"
    sent = json.loads(body)
    assert sent["id"] == eid and sent["extra"] == "b"
    expect_error("ValidationException", events.create_connection, Name=evname("-bad"),
                 AuthorizationType="API_KEY", AuthParameters={
                     "ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"},
                     "InvocationHttpParameters": {"HeaderParameters": [
                         {"Key": "bad header", "Value": "v"}]}})


def test_positive_retry_after_delays_the_next_attempt(events, evname, scripted):
    def handler(srv, *_):
        if len(srv.requests) == 1:
            return 429, {"Retry-After": "3"}, b""
        return 200, {}, b""
    ep = scripted(handler)
    conn = _api_key_connection(events, evname)
    dest = _destination(events, evname, conn["ConnectionArn"], ep.url + "/h")
    _, src = rule_with(events, evname, [{"Id": "h", "Arn": dest, "RoleArn": ROLE}])
    put(events, src)
    e2e_util.wait_until(lambda: len(ep.requests) >= 2, timeout=15, what="second attempt")
    assert ep.requests[1][4] - ep.requests[0][4] >= 2.8


def test_retry_after_past_the_event_age_gives_up(events, sqs, evname, evqueue, scripted):
    ep = scripted(lambda *_: (503, {"Retry-After": "120"}, b""))
    conn = _api_key_connection(events, evname)
    dest = _destination(events, evname, conn["ConnectionArn"], ep.url + "/h")
    dlq_url, dlq_arn = evqueue("-dlq")
    _, src = rule_with(events, evname, [{
        "Id": "h", "Arn": dest, "RoleArn": ROLE, "DeadLetterConfig": {"Arn": dlq_arn},
        "RetryPolicy": {"MaximumEventAgeInSeconds": 60, "MaximumRetryAttempts": 5}}])
    eid = put(events, src)
    [m] = receive_all(sqs, dlq_url, expect=1, timeout=8)
    assert json.loads(m["Body"])["id"] == eid
    attrs = {k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()}
    assert attrs.get("EXHAUSTED_RETRY_CONDITION") == "MaximumEventAgeInSeconds"
    assert len(ep.requests) == 1


def _token_server(scripted, token="tok-123", status=200):
    def handler(srv, method, path, headers, body):
        if path.startswith("/oauth"):
            return status, {"Content-Type": "application/json"}, json.dumps(
                {"access_token": token, "token_type": "bearer",
                 "expires_in": 3600}).encode()
        return 200, {}, b""
    return scripted(handler)


def test_oauth_connection_fetches_a_token(events, evname, scripted, server):
    srv = _token_server(scripted)
    name = evname("-oauth")
    r = events.create_connection(
        Name=name, AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
        AuthParameters={"OAuthParameters": {
            "AuthorizationEndpoint": srv.url + "/oauth", "HttpMethod": "POST",
            "ClientParameters": {"ClientID": "cid", "ClientSecret": "csecret"},
            "OAuthHttpParameters": {"BodyParameters": [
                {"Key": "scope", "Value": "events", "IsValueSecret": False}]}}})
    assert r["ConnectionState"] == "AUTHORIZING"
    e2e_util.wait_until(
        lambda: events.describe_connection(Name=name)["ConnectionState"] == "AUTHORIZED",
        timeout=10, what="AUTHORIZED")
    method, path, headers, body, _ = srv.requests[0]
    assert (method, path) == ("POST", "/oauth")
    assert "grant_type=client_credentials" in body and "scope=events" in body
    assert headers["Authorization"].startswith("Basic ")
    d = events.describe_connection(Name=name)
    assert d["AuthParameters"]["OAuthParameters"]["ClientParameters"] == {"ClientID": "cid"}
    assert "LastAuthorizedTime" in d
    dest = _destination(events, evname, r["ConnectionArn"], srv.url + "/hook")
    _, src = rule_with(events, evname, [{"Id": "h", "Arn": dest, "RoleArn": ROLE}])
    put(events, src)
    e2e_util.wait_until(lambda: any(q[1] == "/hook" for q in srv.requests), timeout=10,
                        what="API destination request")
    hook = [q for q in srv.requests if q[1] == "/hook"][0]
    assert hook[2]["Authorization"] == "Bearer tok-123"
    # neither the client secret nor the token is written to the log
    with open(server.stderr_path, errors="replace") as f:
        log = f.read()
    assert "csecret" not in log and "tok-123" not in log


def test_oauth_failure_deauthorizes(events, evname, scripted):
    srv = _token_server(scripted, status=401)
    name = evname("-oauth")
    r = events.create_connection(
        Name=name, AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
        AuthParameters={"OAuthParameters": {
            "AuthorizationEndpoint": srv.url + "/oauth", "HttpMethod": "GET",
            "ClientParameters": {"ClientID": "cid", "ClientSecret": "cs"}}})
    e2e_util.wait_until(
        lambda: events.describe_connection(Name=name)["ConnectionState"] == "DEAUTHORIZED",
        timeout=10, what="DEAUTHORIZED")
    assert srv.requests[0][0] == "GET" and "grant_type=client_credentials" in srv.requests[0][1]
    dest_name = evname("-dest")
    events.create_api_destination(Name=dest_name, ConnectionArn=r["ConnectionArn"],
                                  InvocationEndpoint=srv.url + "/hook", HttpMethod="POST")
    assert events.describe_api_destination(Name=dest_name)["ApiDestinationState"] == "INACTIVE"


@pytest.mark.timeout(60)
def test_connection_changes_survive_restart(fresh_server, scripted):
    ev = events_client(fresh_server.endpoint)
    srv = _token_server(scripted, token="tok-restart")
    conn = ev.create_connection(Name="c", AuthorizationType="API_KEY", AuthParameters={
        "ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"},
        "InvocationHttpParameters": {"QueryStringParameters": [
            {"Key": "q", "Value": "1", "IsValueSecret": True}]}})
    ev.update_connection(Name="c", Description="after")
    ev.create_api_destination(Name="d", ConnectionArn=conn["ConnectionArn"],
                              InvocationEndpoint=srv.url + "/a", HttpMethod="POST")
    ev.update_api_destination(Name="d", HttpMethod="PUT")
    ev.create_connection(Name="deauth", AuthorizationType="BASIC", AuthParameters={
        "BasicAuthParameters": {"Username": "u", "Password": "p"}})
    ev.deauthorize_connection(Name="deauth")
    ev.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
                         AuthParameters={"OAuthParameters": {
                             "AuthorizationEndpoint": srv.url + "/oauth", "HttpMethod": "POST",
                             "ClientParameters": {"ClientID": "i", "ClientSecret": "s"}}})
    e2e_util.wait_until(
        lambda: ev.describe_connection(Name="o")["ConnectionState"] == "AUTHORIZED",
        timeout=10, what="AUTHORIZED")
    fresh_server.restart()
    ev = events_client(fresh_server.endpoint)
    d = ev.describe_connection(Name="c")
    assert d["Description"] == "after"
    assert d["AuthParameters"]["InvocationHttpParameters"] == {"QueryStringParameters": [
        {"Key": "q", "IsValueSecret": True}]}
    assert ev.describe_api_destination(Name="d")["HttpMethod"] == "PUT"
    assert ev.describe_connection(Name="deauth")["ConnectionState"] == "DEAUTHORIZED"
    # the token is not stored: fetched again at start
    e2e_util.wait_until(
        lambda: ev.describe_connection(Name="o")["ConnectionState"] == "AUTHORIZED",
        timeout=10, what="AUTHORIZED after restart")
    assert len([q for q in srv.requests if q[1] == "/oauth"]) == 2
    for path in glob.glob(fresh_server.data_dir + "/**", recursive=True):
        try:
            with open(path, "rb") as f:
                assert b"tok-restart" not in f.read(), path
        except IsADirectoryError:
            pass


def test_oauth_token_is_renewed_before_it_expires(events, evname, scripted):
    tokens = []

    def handler(srv, method, path, headers, body):
        if path.startswith("/oauth"):
            tokens.append("t%d" % (len(tokens) + 1))
            return 200, {}, json.dumps({"access_token": tokens[-1], "expires_in": 2}).encode()
        return 200, {}, b""
    srv = scripted(handler)
    name = evname("-oauth")
    r = events.create_connection(
        Name=name, AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
        AuthParameters={"OAuthParameters": {
            "AuthorizationEndpoint": srv.url + "/oauth", "HttpMethod": "POST",
            "ClientParameters": {"ClientID": "cid", "ClientSecret": "cs"}}})
    e2e_util.wait_until(
        lambda: events.describe_connection(Name=name)["ConnectionState"] == "AUTHORIZED",
        timeout=10, what="AUTHORIZED")
    dest = _destination(events, evname, r["ConnectionArn"], srv.url + "/hook")
    _, src = rule_with(events, evname, [{"Id": "h", "Arn": dest, "RoleArn": ROLE}])
    # renewed a second before it expires, so a token is always at hand
    e2e_util.wait_until(lambda: len(tokens) >= 3, timeout=10, what="renewals")
    put(events, src)
    e2e_util.wait_until(lambda: any(q[1] == "/hook" for q in srv.requests), timeout=15,
                        what="API destination request")
    hook = [q for q in srv.requests if q[1] == "/hook"][0]
    assert hook[2]["Authorization"].split(" ")[1] in tokens[2:]
    # deauthorizing stops the renewals
    events.deauthorize_connection(Name=name)
    n = len(tokens)
    time.sleep(2.5)
    assert len(tokens) == n


def test_invocation_rate_limit_spaces_invocations(events, evname, scripted):
    """InvocationRateLimitPerSecond=1: the first event goes at once, the
    others one a second; none is lost and none counts as a failed attempt."""
    ep = scripted(_ok)
    conn = _api_key_connection(events, evname)
    name = evname("-dest")
    dest = events.create_api_destination(
        Name=name, ConnectionArn=conn["ConnectionArn"],
        InvocationEndpoint=ep.url + "/slow", HttpMethod="POST",
        InvocationRateLimitPerSecond=1)["ApiDestinationArn"]
    _, src = rule_with(events, evname, [{"Id": "h", "Arn": dest, "RoleArn": ROLE}])
    for i in range(4):
        put(events, src, detail={"n": i})
    e2e_util.wait_until(lambda: len(ep.requests) >= 4, timeout=20, what="four invocations")
    times = sorted(r[4] for r in ep.requests)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(g >= 0.85 for g in gaps), gaps
    assert sorted(json.loads(r[3])["detail"]["n"] for r in ep.requests) == [0, 1, 2, 3]
    # The limit is the destination's: raised, the queue of waiting events
    # is not held back longer than its reservations.
    events.update_api_destination(Name=name, InvocationRateLimitPerSecond=300)
    before = len(ep.requests)
    for i in range(20):
        put(events, src, detail={"n": 100 + i})
    e2e_util.wait_until(lambda: len(ep.requests) >= before + 20, timeout=10,
                        what="twenty invocations at 300 a second")
    got = [r[4] for r in ep.requests[before:]]
    assert max(got) - min(got) < 3, "300 a second should not space 20 events out"
    described = events.describe_api_destination(Name=name)
    assert described["InvocationRateLimitPerSecond"] == 300
    assert "next_slot_ms" not in described
