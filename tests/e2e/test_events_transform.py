"""What a target receives: Input, InputPath and InputTransformer, checked
through real delivery to an SQS queue (semantics reference section 6)."""

import json
import re
import uuid

import pytest

from e2e_util import expect_error
from test_events_helpers import bodies, events, evname, evqueue, receive_all  # noqa: F401

DETAIL = {"s": "text", "n": 12, "f": 1.5, "b": True, "nul": None,
          "o": {"acc_id": "0a7", "sf_id": "baz"}, "arr": ["ACTIVE", "INACTIVE"],
          "deep": {"x": {"y": "z"}}}

PATHS = {"s": "$.detail.s", "n": "$.detail.n", "f": "$.detail.f", "b": "$.detail.b",
         "nul": "$.detail.nul", "o": "$.detail.o", "arr": "$.detail.arr",
         "y": "$.detail.deep.x.y", "first": "$.detail.arr[0]", "missing": "$.detail.nope",
         "src": "$.source", "dt": "$.detail-type", "res0": "$.resources[0]"}


def deliver(events, sqs, evname, evqueue, target_extra, detail=DETAIL, expect=1):
    """Puts one event through a rule whose only target has target_extra;
    returns the bodies received (and the rule name and source)."""
    name = evname()
    url, arn = evqueue()
    src = "tr." + uuid.uuid4().hex[:8]
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [src]}))
    target = {"Id": "t", "Arn": arn}
    target.update(target_extra)
    events.put_targets(Rule=name, Targets=[target])
    events.put_events(Entries=[{"Source": src, "DetailType": "Kind-1",
                                "Detail": json.dumps(detail),
                                "Resources": ["arn:aws:s3:::bkt"]}])
    got = bodies(receive_all(sqs, url, expect=expect or None, timeout=6 if expect else 2))
    return got, name, src


def transformer(template, paths=PATHS):
    return {"InputTransformer": {"InputPathsMap": paths, "InputTemplate": template}}


def test_input_constant(events, sqs, evname, evqueue):
    got, _, _ = deliver(events, sqs, evname, evqueue, {"Input": '{"fixed": [1, 2]}'})
    assert got == ['{"fixed": [1, 2]}']


def test_input_path(events, sqs, evname, evqueue):
    got, _, _ = deliver(events, sqs, evname, evqueue, {"InputPath": "$.detail.o"})
    assert json.loads(got[0]) == DETAIL["o"]
    got, _, _ = deliver(events, sqs, evname, evqueue, {"InputPath": "$.detail.s"})
    assert json.loads(got[0]) == "text"


def test_unquoted_values(events, sqs, evname, evqueue):
    tmpl = ('{"s": <s>, "n": <n>, "f": <f>, "b": <b>, "nul": <nul>, "o": <o>, '
            '"arr": <arr>, "y": <y>, "first": <first>, "src": <src>, "dt": <dt>, '
            '"res0": <res0>}')
    got, _, src = deliver(events, sqs, evname, evqueue, transformer(tmpl))
    assert json.loads(got[0]) == {
        "s": "text", "n": 12, "f": 1.5, "b": True, "nul": None, "o": DETAIL["o"],
        "arr": DETAIL["arr"], "y": "z", "first": "ACTIVE", "src": src, "dt": "Kind-1",
        "res0": "arn:aws:s3:::bkt"}


def test_quoted_string_is_not_quoted_twice(events, sqs, evname, evqueue):
    got, _, _ = deliver(events, sqs, evname, evqueue, transformer('{"s": "<s>", "n": "<n>"}'))
    assert json.loads(got[0]) == {"s": "text", "n": "12"}


def test_inside_string_raw_text(events, sqs, evname, evqueue):
    tmpl = '{"msg": "s=<s> n=<n> b=<b> o=<o> arr=<arr> miss=<missing>."}'
    got, _, _ = deliver(events, sqs, evname, evqueue, transformer(tmpl))
    assert json.loads(got[0]) == {
        "msg": "s=text n=12 b=true o={acc_id:0a7,sf_id:baz} arr=[ACTIVE,INACTIVE] miss=."}


def test_missing_path_is_empty_string(events, sqs, evname, evqueue):
    got, _, _ = deliver(events, sqs, evname, evqueue, transformer('{"command": <missing>}'))
    assert json.loads(got[0]) == {"command": ""}


def test_whole_template_string(events, sqs, evname, evqueue):
    got, _, _ = deliver(events, sqs, evname, evqueue,
                        transformer('"Event <s> of kind <dt> at <n>"'))
    assert got == ['"Event text of kind Kind-1 at 12"']


def test_quoted_object_is_not_delivered(events, sqs, evname, evqueue):
    got, _, _ = deliver(events, sqs, evname, evqueue, transformer('{"o": "<o>"}'), expect=0)
    assert got == []


def test_reserved_variables(events, sqs, evname, evqueue):
    tmpl = ('{"arn": <aws.events.rule-arn>, "name": <aws.events.rule-name>, '
            '"at": <aws.events.event.ingestion-time>, "ev": <aws.events.event.json>, '
            '"env": <aws.events.event>}')
    got, name, src = deliver(events, sqs, evname, evqueue, transformer(tmpl, {"s": "$.detail.s"}))
    out = json.loads(got[0])
    assert out["arn"] == "arn:aws:events:us-east-1:000000000000:rule/" + name
    assert out["name"] == name
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", out["at"])
    assert out["ev"]["source"] == src and out["ev"]["detail"] == DETAIL
    assert "detail" not in out["env"] and out["env"]["source"] == src


def test_transformer_validation(events, evname, evqueue):
    name = evname()
    _, arn = evqueue()
    events.put_rule(Name=name, EventPattern=json.dumps({"source": ["x"]}))

    def put(paths, template):
        return events.put_targets(Rule=name, Targets=[{
            "Id": "t", "Arn": arn,
            "InputTransformer": {"InputPathsMap": paths, "InputTemplate": template}}])
    msg = expect_error("ValidationException", put, {"a": "$.detail"}, '{"x": <b>}')
    assert msg == "InputTemplate for target t contains invalid placeholder b."
    expect_error("ValidationException", put, {"aws.events.rule-arn": "$.detail"}, '<a>')
    expect_error("ValidationException", put, {"a": "detail.x"}, '{"x": <a>}')
    # Keys like detail-type are fine; reserved variables need no key.
    put({"detail-type": "$.detail-type"}, '{"x": <detail-type>, "r": <aws.events.rule-name>}')


@pytest.mark.parametrize("template,expected", [
    ('{"list": [<n>, <s>, "<s>"]}', {"list": [12, "text", "text"]}),
    ('{"nested": {"v": <y>}}', {"nested": {"v": "z"}}),
])
def test_more_shapes(events, sqs, evname, evqueue, template, expected):
    got, _, _ = deliver(events, sqs, evname, evqueue, transformer(template))
    assert json.loads(got[0]) == expected
