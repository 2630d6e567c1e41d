"""Sync ordering: no answer to a write leaves before its data is synced.

The server runs under strace (STRACE_ARGS below): every read and write on
its sockets and every fsync/fdatasync, with the file or TCP connection each
descriptor names (-yy) and enough of each buffer (-s) to see the request's
action and the response's status line. strace reports events in an order
consistent with causality (a thread is stopped at each traced syscall until
strace has printed it), so line order is event order.

check() pairs every request (the bytes read on a connection since its last
answer) with the answer that follows it, and for each successful answer
(HTTP 200) to a call that must write, requires a completed fsync or
fdatasync of the SQLite WAL that was issued after the request's last byte
was read and returned before the answer's first byte was written. The
committer syncs one group at a time, so the earliest sync issued after the
read is the one to look at: if it has not returned when the answer starts,
no later one has either.

Calls checked: SendMessage and SendMessageBatch on the standard queue
(torture-std: every one writes), SNS Publish and EventBridge PutEvents
(their subscriptions and rules always match something), and the set-up
calls (CreateQueue, CreateTopic, Subscribe, SetSubscriptionAttributes,
CreateEventBus, PutRule, PutTargets). Not checked: FIFO sends (a
deduplicated re-send answers from an earlier commit), deletes and
visibility changes (a stale receipt handle answers without writing), and
reads.
"""

import bisect
import re

TRACED = "read,readv,recvfrom,recvmsg,write,writev,sendmsg,sendto,fsync,fdatasync"
STRACE_ARGS = ["strace", "-f", "-qq", "-tt", "-yy", "-s", "1500",
               "--seccomp-bpf", "-e", "trace=" + TRACED]

READS = {"read", "readv", "recvfrom", "recvmsg"}
WRITES = {"write", "writev", "sendmsg", "sendto"}
SYNCS = {"fsync", "fdatasync"}
SETUP_ACTIONS = {"CreateQueue", "CreateTopic", "Subscribe", "SetSubscriptionAttributes",
                 "CreateEventBus", "PutRule", "PutTargets"}

LINE = re.compile(r"^(\d+)\s+[\d:.]+\s+(.*)$")
CALL = re.compile(r"^([a-z0-9_]+)\((.*)$")
RESUMED = re.compile(r"^<\.\.\. ([a-z0-9_]+) resumed>(.*)$")
RESULT = re.compile(r"\)\s+=\s+(-?\d+)")
TCP = re.compile(r"^\d+<TCP:\[([^\]]+)\]>")
FILE = re.compile(r"^\d+<([^>]*)>")
ACTION = re.compile(r"Action=([A-Za-z]+)")
TARGET = re.compile(r"X-Amz-Target: [A-Za-z0-9_]+\.([A-Za-z]+)", re.I)
STATUS = re.compile(r"HTTP/1\.[01] (\d{3})")


def _events(lines):
    """(kind, name, args text, result, entry index, exit index) per syscall,
    in exit order, with unfinished/resumed halves joined."""
    pending = {}
    for i, raw in enumerate(lines):
        m = LINE.match(raw)
        if not m:
            continue
        pid, rest = m.group(1), m.group(2)
        r = RESUMED.match(rest)
        if r:
            if pid not in pending:
                continue
            name, head, entry = pending.pop(pid)
            text = head + r.group(2)
        else:
            c = CALL.match(rest)
            if not c:
                continue
            name, text, entry = c.group(1), c.group(2), i
            if rest.endswith("<unfinished ...>"):
                pending[pid] = (name, text[:-len("<unfinished ...>")], i)
                continue
        res = RESULT.search(text)
        yield name, text, int(res.group(1)) if res else -1, entry, i


def _action(request):
    m = TARGET.search(request) or ACTION.search(request)
    return m.group(1) if m else None


def _must_write(action, request):
    if action in ("SendMessage", "SendMessageBatch"):
        return "torture-std" in request
    return action in ("Publish", "PutEvents") or action in SETUP_ACTIONS


def check(lines, drop_syncs=False):
    """Returns (answers checked, violations, syncs seen).  drop_syncs
    pretends the WAL was never synced: the checker's self-test."""
    syncs = []          # (entry, exit) of WAL syncs, in order
    requests = {}       # connection -> [text, index of the last read's exit]
    checked, bad = 0, []
    for name, text, res, entry, exit_ in _events(lines):
        if name in SYNCS:
            f = FILE.match(text)
            if f and f.group(1).endswith("-wal") and res == 0 and not drop_syncs:
                syncs.append((entry, exit_))
            continue
        t = TCP.match(text)
        if not t or res <= 0:
            continue
        conn = t.group(1)
        if name in READS:
            req = requests.setdefault(conn, ["", exit_])
            req[0] += text
            req[1] = exit_
            continue
        if name not in WRITES or conn not in requests:
            continue
        request, read_at = requests.pop(conn)
        status = STATUS.search(text[:400])
        action = _action(request)
        if not status or status.group(1) != "200" or not _must_write(action, request):
            continue
        checked += 1
        k = bisect.bisect_right(syncs, (read_at, float("inf")))
        if k == len(syncs) or syncs[k][1] >= entry:
            bad.append("%s answered (trace line %d) before a WAL sync issued after "
                       "its request was read (line %d) had returned" %
                       (action, entry + 1, read_at + 1))
    return checked, bad, len(syncs)


def _fake(pid, call):
    return "%d 00:00:00.000000 %s" % (pid, call)


def selftest():
    """check() on hand-made traces with known answers; returns the cases it
    got wrong (an empty list when the checker works)."""
    conn = '7<TCP:[127.0.0.1:4566->127.0.0.1:40000]>'
    wal = '5</data/sluice.db-wal>'

    def read(action):
        return _fake(1, 'readv(%s, [{iov_base="POST / HTTP/1.1\\r\\n\\r\\nAction=%s&'
                        'Version=1", iov_len=99}], 1) = 99' % (conn, action))

    def answer(status=200):
        return _fake(1, 'writev(%s, [{iov_base="HTTP/1.1 %d OK\\r\\n", iov_len=17}], 1)'
                        ' = 17' % (conn, status))
    sync = _fake(2, 'fdatasync(%s) = 0' % wal)
    sync_begin = _fake(2, 'fdatasync(%s <unfinished ...>' % wal)
    sync_end = _fake(2, '<... fdatasync resumed>) = 0')
    other = _fake(3, 'write(9<anon_inode:[eventfd]>, "\\1", 8) = 8')
    cases = {
        # name: (trace, answers checked, early answers)
        "synced": ([read("Publish"), sync, answer()], 1, 0),
        "answer first": ([read("Publish"), answer(), sync], 1, 1),
        "sync issued before the read": (
            [sync_begin, read("Publish"), sync_end, answer()], 1, 1),
        "split sync": ([read("PutEvents"), sync_begin, other, sync_end, answer()], 1, 0),
        "sync still running": ([read("Publish"), sync_begin, answer(), sync_end], 1, 1),
        "a read": ([read("ReceiveMessage"), answer()], 0, 0),
        "an error answer": ([read("Publish"), answer(503)], 0, 0),
    }
    wrong = []
    for name, (trace, n, early) in cases.items():
        checked, bad, _ = check(trace)
        if (checked, len(bad)) != (n, early):
            wrong.append("%s: %d checked, %d early; expected %d, %d"
                         % (name, checked, len(bad), n, early))
    return wrong
