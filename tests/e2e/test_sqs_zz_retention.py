"""Message retention: a queue with the minimum MessageRetentionPeriod (60 s)
loses its messages once they are a minute old, whether they sat visible or
had been in flight.

The probe queue is filled by the session fixture retention_probe
(conftest.py) when the session starts; this file sorts last so that most
of the minute has already passed by the time it runs.
"""

import time

import pytest


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_messages_expire_after_retention_period(retention_probe):
    if retention_probe is None:
        pytest.skip("retention probe not set up")
    client, url = retention_probe["client"], retention_probe["url"]
    assert retention_probe["received"] == 1
    left = retention_probe["sent_at"] + 62 - time.time()
    if left > 0:
        time.sleep(left)
    got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                 WaitTimeSeconds=1).get("Messages", [])
    assert got == [], [m["Body"] for m in got]
    attrs = client.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                      "ApproximateNumberOfMessagesNotVisible",
                                      "ApproximateNumberOfMessagesDelayed"])
    assert set(attrs["Attributes"].values()) == {"0"}
    # A message sent now is not touched by the expiry of the older ones.
    client.send_message(QueueUrl=url, MessageBody="fresh")
    got = client.receive_message(QueueUrl=url).get("Messages", [])
    assert [m["Body"] for m in got] == ["fresh"]
