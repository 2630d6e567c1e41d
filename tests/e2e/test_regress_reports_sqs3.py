"""Regressions found by checking sluice's SQS against what real client
libraries (the JavaScript SDK v3, sqs-consumer, aws-cli, boto3) and other
SQS implementations' bug reports exercise, where AWS's documentation or
AWS-recorded test snapshots settle the expected answer.  Message move
tasks are newer than Debian's boto3, so those requests are raw AWS JSON."""
import base64
import json
import time

from e2e_util import expect_error, json_post, wait_until


def call(endpoint, action, payload, status=200):
    st, headers, body = json_post(endpoint, action, payload)
    doc = json.loads(body) if body else {}
    assert st == status, (st, doc)
    return doc, headers


def arn_of(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]


def dlq_pair(sqs, queue):
    """A dead-letter queue and a queue that uses it: (src, dlq, dlq_arn)."""
    dlq = queue(suffix="-dlq")
    dlq_arn = arn_of(sqs, dlq)
    src = queue(attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})}, suffix="-src")
    return src, dlq, dlq_arn


def last_task(endpoint, source_arn):
    return call(endpoint, "ListMessageMoveTasks", {"SourceArn": source_arn})[0]["Results"][0]


def test_redrive_to_source_of_a_message_sent_straight_to_the_dlq(endpoint, sqs, queue):
    """SQS Developer Guide, "Troubleshoot ... DLQ redrive issues": a redrive
    to the original source fails with CouldNotDetermineMessageSource when a
    message was sent directly to the DLQ with SendMessage (or came from SNS
    or Lambda).  sluice failed the task with NonExistentQueue, the reason
    AWS keeps for a source queue that is gone."""
    src, dlq, dlq_arn = dlq_pair(sqs, queue)
    sqs.send_message(QueueUrl=dlq, MessageBody="sent directly")
    call(endpoint, "StartMessageMoveTask", {"SourceArn": dlq_arn})
    wait_until(lambda: last_task(endpoint, dlq_arn)["Status"] == "FAILED",
               what="task failed")
    task = last_task(endpoint, dlq_arn)
    assert task["FailureReason"] == "CouldNotDetermineMessageSource", task
    assert "TaskHandle" not in task
    assert sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=[
        "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"] == "1"


def test_second_move_task_on_a_source_is_invalid_parameter_value(endpoint, sqs, queue):
    """A second StartMessageMoveTask while one runs: AWS answers 400
    InvalidParameterValue "There is already a task running. Only one active
    task is allowed for a source queue arn at a given time." (recorded
    against AWS in LocalStack's test_sqs_move_task.snapshot.json,
    test_start_multiple_move_tasks); sluice said UnsupportedOperation."""
    src, dlq, dlq_arn = dlq_pair(sqs, queue)
    for i in range(3):
        sqs.send_message(QueueUrl=src, MessageBody="m%d" % i)
    got = 0
    while got < 3:
        got += len(sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10,
                                       VisibilityTimeout=1).get("Messages", []))
    time.sleep(1.2)
    sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)  # moves them to the DLQ
    doc, _ = call(endpoint, "StartMessageMoveTask", {
        "SourceArn": dlq_arn, "MaxNumberOfMessagesPerSecond": 1})
    err, headers = call(endpoint, "StartMessageMoveTask", {"SourceArn": dlq_arn}, status=400)
    assert err["__type"].endswith("#InvalidParameterValue"), err
    assert headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    assert "Only one active task is allowed" in err["message"]
    call(endpoint, "CancelMessageMoveTask", {"TaskHandle": doc["TaskHandle"]})


def test_move_task_handle_names_its_source_and_cancel_reads_it(endpoint, sqs, queue):
    """AWS's TaskHandle is base64 of {"taskId": <uuid>, "sourceArn": <arn>}
    and CancelMessageMoveTask answers by what it decodes (LocalStack's
    AWS-validated snapshots, test_sqs_move_task): a handle that is not one
    -> 400 InvalidParameterValue "Value for parameter TaskHandle is
    invalid."; one naming a queue that does not exist -> 404
    ResourceNotFoundException about the SourceArn; an unknown task of an
    existing queue -> 404 "Task does not exist."  sluice minted UUIDs and
    answered "Task does not exist." to everything."""
    src, dlq, dlq_arn = dlq_pair(sqs, queue)
    sqs.send_message(QueueUrl=src, MessageBody="x")
    doc, _ = call(endpoint, "StartMessageMoveTask", {"SourceArn": dlq_arn})
    decoded = json.loads(base64.b64decode(doc["TaskHandle"]))
    assert decoded["sourceArn"] == dlq_arn and len(decoded["taskId"]) == 36, decoded

    err, h = call(endpoint, "CancelMessageMoveTask", {"TaskHandle": "foobared"}, status=400)
    assert h["x-amzn-query-error"] == "InvalidParameterValue;Sender", err
    assert err["message"] == "Value for parameter TaskHandle is invalid."

    def handle(source):
        return base64.b64encode(json.dumps(
            {"taskId": "10f57157-fc38-4da9-a113-4de7e12d05aa",
             "sourceArn": source}).encode()).decode()
    err, h = call(endpoint, "CancelMessageMoveTask",
                  {"TaskHandle": handle(dlq_arn + "-gone")}, status=404)
    assert h["x-amzn-query-error"].startswith("ResourceNotFoundException"), err
    assert "SourceArn" in err["message"]
    err, h = call(endpoint, "CancelMessageMoveTask", {"TaskHandle": handle(dlq_arn)},
                  status=404)
    assert err["message"] == "Task does not exist."


def dead_letter(sqs, src, n, **send_kw):
    """Sends n messages to src and lets each go to its DLQ; returns the
    MessageIds in send order."""
    ids = [sqs.send_message(QueueUrl=src, MessageBody="m%d" % i, **{
        k: v.replace("{}", str(i)) for k, v in send_kw.items()})["MessageId"]
        for i in range(n)]
    got = 0
    while got < n:
        got += len(sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10,
                                       VisibilityTimeout=1).get("Messages", []))
    time.sleep(1.2)
    assert "Messages" not in sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10)
    return ids


def test_redriven_messages_are_new_messages(endpoint, sqs, queue):
    """SQS Developer Guide, "Configure a dead-letter queue redrive": "The
    redrive task resets the retention period.  All redriven messages are
    considered new messages and are assigned a new messageID and
    enqueueTime."  sluice kept the MessageId and, on a standard queue, the
    first SentTimestamp (so the redriven message could expire at once)."""
    src, dlq, dlq_arn = dlq_pair(sqs, queue)
    old_ids = dead_letter(sqs, src, 2)
    started_ms = int(time.time() * 1000)
    call(endpoint, "StartMessageMoveTask", {"SourceArn": dlq_arn})
    wait_until(lambda: last_task(endpoint, dlq_arn)["Status"] == "COMPLETED",
               what="task completed")
    got = []
    while len(got) < 2:
        got += sqs.receive_message(QueueUrl=src, MaxNumberOfMessages=10,
                                   AttributeNames=["All"]).get("Messages", [])
    assert sorted(m["Body"] for m in got) == ["m0", "m1"]
    assert not set(m["MessageId"] for m in got) & set(old_ids), (got, old_ids)
    assert all(int(m["Attributes"]["SentTimestamp"]) >= started_ms - 1000 for m in got), got
    # the new id is the message's id from now on: deleting by it works
    for m in got:
        sqs.delete_message(QueueUrl=src, ReceiptHandle=m["ReceiptHandle"])


def test_fifo_dead_letter_queue_uses_the_message_id_as_deduplication_id(sqs, queue):
    """SQS Developer Guide, "Configure a dead-letter queue redrive": "When a
    message is moved from a FIFO queue to a FIFO DLQ, the original message's
    deduplication ID will be replaced with the original message's ID."
    sluice kept the sender's deduplication id."""
    fifo = {"FifoQueue": "true"}
    dlq = queue(fifo, suffix="-dlq.fifo")
    src = queue(dict(fifo, RedrivePolicy=json.dumps(
        {"deadLetterTargetArn": arn_of(sqs, dlq), "maxReceiveCount": 1})), suffix="-src.fifo")
    ids = dead_letter(sqs, src, 2, MessageGroupId="g", MessageDeduplicationId="dup-{}")
    got = []
    while len(got) < 2:
        got += sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10,
                                   AttributeNames=["All"]).get("Messages", [])
    assert [m["Attributes"]["MessageDeduplicationId"] for m in got] == ids, got
    assert [m["MessageId"] for m in got] == ids


def test_redrive_destination_must_be_of_the_same_queue_type(endpoint, sqs, queue):
    """SQS Developer Guide, "Configure a dead-letter queue redrive": any
    other queue can be the destination "if both queues are the same type.
    For example, if the dead-letter queue is a FIFO queue, the redrive
    destination queue must be a FIFO queue as well."  sluice accepted a
    FIFO destination for a standard DLQ and put messages without a
    MessageGroupId on the FIFO queue."""
    src, dlq, dlq_arn = dlq_pair(sqs, queue)
    sqs.send_message(QueueUrl=dlq, MessageBody="x")
    fifo = queue({"FifoQueue": "true"}, suffix=".fifo")
    err, _ = call(endpoint, "StartMessageMoveTask", {
        "SourceArn": dlq_arn, "DestinationArn": arn_of(sqs, fifo)}, status=400)
    assert err["__type"].endswith("#InvalidParameterValue"), err
    assert sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=[
        "ApproximateNumberOfMessages"])["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_batch_total_counts_message_attributes(sqs, queue):
    """SQS Developer Guide, message attributes: "All parts of the message
    attribute, including name, type, and value, are included in the message
    size restriction"; API_SendMessageBatch limits "the sum of the
    individual lengths of all of the batched messages" to 1 MiB, and AWS
    answers "Batch requests cannot be longer than ... bytes. You have sent
    ... bytes." (quoted in awslabs/amazon-sqs-python-extended-client-lib
    #25; co-go/sqs-extended-client-go#104 saw the attributes counted).
    sluice summed the bodies only: two 524,000-byte bodies with 1,000-byte
    attributes each went through."""
    url = queue()
    attrs = {"pad": {"DataType": "String", "StringValue": "a" * 1000}}
    entries = [{"Id": "e%d" % i, "MessageBody": "x" * 524000, "MessageAttributes": attrs}
               for i in range(2)]
    msg = expect_error("AWS.SimpleQueueService.BatchRequestTooLong", sqs.send_message_batch,
                       QueueUrl=url, Entries=entries)
    # 2 x (524000 body + "pad" + "String" + 1000 value)
    assert msg == ("Batch requests cannot be longer than 1048576 bytes. "
                   "You have sent 1050018 bytes."), msg
    # without the attributes the same bodies fit
    for e in entries:
        del e["MessageAttributes"]
    assert len(sqs.send_message_batch(QueueUrl=url, Entries=entries)["Successful"]) == 2
