"""Dead-letter redrive: message move tasks over the AWS JSON protocol (the
operations are newer than Debian's boto3, so the requests are raw)."""
import json
import time

from e2e_util import json_post, wait_until


def call(endpoint, action, payload, status=200):
    st, headers, body = json_post(endpoint, action, payload)
    doc = json.loads(body) if body else {}
    assert st == status, (st, doc)
    return doc, headers


def arn_of(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]


def dead_letter_some(sqs, queue, n):
    dlq = queue(suffix="dlq")
    dlq_arn = arn_of(sqs, dlq)
    src = queue(attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})}, suffix="src")
    for i in range(n):
        sqs.send_message(QueueUrl=src, MessageBody="m%d" % i,
                         MessageAttributes={"n": {"DataType": "Number",
                                                  "StringValue": str(i)}})
    got = 0
    while got < n:
        got += len(sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10,
                                       VisibilityTimeout=1).get("Messages", []))
    time.sleep(1.2)
    # the next receives move them to the dead-letter queue
    assert "Messages" not in sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)
    wait_until(lambda: count(sqs, dlq) == n, what="messages in the DLQ")
    return src, dlq, dlq_arn


def count(sqs, url):
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]) + \
        int(a["ApproximateNumberOfMessagesNotVisible"])


def test_dead_letter_source_arn_attribute(sqs, queue):
    src, dlq, _ = dead_letter_some(sqs, queue, 1)
    m = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"])["Messages"][0]
    assert m["Attributes"]["DeadLetterQueueSourceArn"] == arn_of(sqs, src)


def test_redrive_back_to_source(endpoint, sqs, queue):
    src, dlq, dlq_arn = dead_letter_some(sqs, queue, 5)
    doc, _ = call(endpoint, "StartMessageMoveTask", {"SourceArn": dlq_arn})
    assert doc["TaskHandle"]
    wait_until(lambda: count(sqs, src) == 5, what="messages back in the source")
    assert count(sqs, dlq) == 0
    wait_until(lambda: call(endpoint, "ListMessageMoveTasks", {"SourceArn": dlq_arn})[0][
        "Results"][0]["Status"] == "COMPLETED", what="task completed")
    tasks, _ = call(endpoint, "ListMessageMoveTasks", {"SourceArn": dlq_arn})
    t = tasks["Results"][0]
    assert t["ApproximateNumberOfMessagesMoved"] == 5
    got = []
    while len(got) < 5:
        r = sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10,
                                MessageAttributeNames=["All"],
                                AttributeNames=["ApproximateReceiveCount"])
        got += r.get("Messages", [])
    assert sorted(m["Body"] for m in got) == ["m%d" % i for i in range(5)]
    # a fresh receive count, body and attributes kept
    assert all(m["Attributes"]["ApproximateReceiveCount"] == "1" for m in got)
    assert all("n" in m["MessageAttributes"] for m in got)


def test_redrive_to_given_destination_with_pacing(endpoint, sqs, queue):
    src, dlq, dlq_arn = dead_letter_some(sqs, queue, 4)
    other = queue(suffix="other")
    call(endpoint, "StartMessageMoveTask", {
        "SourceArn": dlq_arn, "DestinationArn": arn_of(sqs, other),
        "MaxNumberOfMessagesPerSecond": 2})
    running, _ = call(endpoint, "ListMessageMoveTasks", {"SourceArn": dlq_arn})
    assert running["Results"][0]["Status"] in ("RUNNING", "COMPLETED")
    assert running["Results"][0]["MaxNumberOfMessagesPerSecond"] == 2
    wait_until(lambda: count(sqs, other) == 4, timeout=15, what="messages moved")
    assert count(sqs, src) == 0


def test_only_one_task_per_source_and_cancel(endpoint, sqs, queue):
    src, dlq, dlq_arn = dead_letter_some(sqs, queue, 3)
    doc, _ = call(endpoint, "StartMessageMoveTask", {
        "SourceArn": dlq_arn, "MaxNumberOfMessagesPerSecond": 1})
    err, headers = call(endpoint, "StartMessageMoveTask", {"SourceArn": dlq_arn},
                        status=400)
    assert headers.get("x-amzn-query-error", "").startswith("InvalidParameterValue")
    done, _ = call(endpoint, "CancelMessageMoveTask", {"TaskHandle": doc["TaskHandle"]})
    assert "ApproximateNumberOfMessagesMoved" in done
    tasks, _ = call(endpoint, "ListMessageMoveTasks", {"SourceArn": dlq_arn})
    assert tasks["Results"][0]["Status"] == "CANCELLED"


def test_source_must_be_a_dead_letter_queue(endpoint, sqs, queue):
    plain = queue()
    _, headers = call(endpoint, "StartMessageMoveTask", {"SourceArn": arn_of(sqs, plain)},
                      status=400)
    assert headers["x-amzn-query-error"].startswith("InvalidParameterValue")
    _, headers = call(endpoint, "StartMessageMoveTask", {
        "SourceArn": "arn:aws:sqs:us-east-1:000000000000:nope"}, status=404)
    assert headers["x-amzn-query-error"].startswith("ResourceNotFoundException")


def test_move_task_survives_a_crash(fresh_server):
    """SIGKILL while a paced move task runs: after the restart the task goes
    on, and every message ends up in the destination exactly once."""
    from e2e_util import sqs_client
    ep = fresh_server.endpoint
    sqs = sqs_client(ep)
    dlq = sqs.create_queue(QueueName="crash-dlq")["QueueUrl"]
    dlq_arn = arn_of(sqs, dlq)
    src = sqs.create_queue(QueueName="crash-src", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})})["QueueUrl"]
    dest = sqs.create_queue(QueueName="crash-dest")["QueueUrl"]
    for i in range(6):
        sqs.send_message(QueueUrl=src, MessageBody="c%d" % i)
    got = 0
    while got < 6:
        got += len(sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10,
                                       VisibilityTimeout=1).get("Messages", []))
    time.sleep(1.2)
    sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)
    wait_until(lambda: count(sqs, dlq) == 6, what="messages in the DLQ")
    call(ep, "StartMessageMoveTask", {"SourceArn": dlq_arn,
                                      "DestinationArn": arn_of(sqs, dest),
                                      "MaxNumberOfMessagesPerSecond": 2})
    time.sleep(1.2)
    fresh_server.restart(crash=True)
    ep = fresh_server.endpoint
    sqs = sqs_client(ep)
    wait_until(lambda: count(sqs, dest) == 6, timeout=20, what="all moved after restart")
    assert count(sqs, dlq) == 0
    bodies = []
    while True:
        r = sqs.receive_message(QueueUrl=dest, MaxNumberOfMessages=10)
        if "Messages" not in r:
            break
        bodies += [m["Body"] for m in r["Messages"]]
    assert sorted(bodies) == ["c%d" % i for i in range(6)]
    tasks, _ = call(ep, "ListMessageMoveTasks", {"SourceArn": dlq_arn})
    assert tasks["Results"][0]["Status"] == "COMPLETED"
    assert tasks["Results"][0]["ApproximateNumberOfMessagesMoved"] == 6
