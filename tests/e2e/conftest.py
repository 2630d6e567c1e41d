"""Fixtures for sluice's end-to-end tests.

The tests are black-box: they start the real server binary (env SLUICE_BIN,
default build/asan/sluice) on a free loopback port with a temporary data
directory, talk to it only through real clients (boto3, aws-cli, the
JavaScript SDK, raw HTTP), and stop it with SIGTERM, which must exit 0.

Server lifetimes:
  server        one per session, shared by every test that does not restart;
                tests keep out of each other's way with unique queue names.
  fresh_server  one per test, for tests that kill or restart the server;
                its data directory outlives kill()/restart().

The server's stderr goes to a file; at stop, a sanitizer report in it
("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:") fails
the test that owned the server.

Every test gets a wall-clock limit: pytest-timeout's when that plugin is
installed, else a SIGALRM guard below (mark: @pytest.mark.timeout(seconds)).
"""

import os
import signal
import socket
import subprocess
import time
import urllib.request
import uuid

import pytest

import e2e_util

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_TIMEOUT = 90
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:")


def server_binary():
    """Path of the server under test (env SLUICE_BIN, else the ASan build)."""
    path = os.environ.get("SLUICE_BIN", os.path.join(REPO, "build/asan/sluice"))
    if not os.path.isabs(path):
        path = os.path.join(REPO, path)
    return path


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One sluice process on a fixed port and data directory.

    start() launches it and waits for /_sluice/health; stop() sends SIGTERM
    and checks the exit status and the sanitizer output; kill() sends
    SIGKILL; restart() starts it again on the same port and data dir.
    """

    def __init__(self, workdir, port=None):
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.port = port or free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.proc = None
        self.runs = 0
        self.stderr_path = None
        self.problems = []
        self.extra_args = []  # appended to the serve command line
        self.command_prefix = []  # e.g. nsenter ...: where the server runs

    def start(self, timeout=None):
        binary = server_binary()
        if not os.access(binary, os.X_OK):
            pytest.skip("server binary %s is not built" % binary)
        self.runs += 1
        self.stderr_path = os.path.join(self.workdir, "stderr.%d.log" % self.runs)
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.command_prefix +
                [binary, "serve", "--host", "127.0.0.1", "--port",
                 str(self.port), "--data-dir", self.data_dir,
                 "--region", e2e_util.REGION,
                 "--account-id", e2e_util.ACCOUNT] + list(self.extra_args),
                stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=env)
        if timeout is None:
            # E2E_START_TIMEOUT: a slow server (valgrind) needs longer.
            timeout = float(os.environ.get("E2E_START_TIMEOUT", "30"))
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    "server exited with %s before it was healthy:\n%s"
                    % (self.proc.returncode, self.stderr_tail()))
            if self.healthy():
                return self
            time.sleep(0.05)
        self.kill()
        raise AssertionError("server not healthy within %ss:\n%s"
                             % (timeout, self.stderr_tail()))

    def healthy(self):
        try:
            with urllib.request.urlopen(self.endpoint + "/_sluice/health",
                                        timeout=1) as r:
                return r.status == 200
        except Exception:
            return False

    def stderr_text(self):
        if not self.stderr_path or not os.path.exists(self.stderr_path):
            return ""
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stderr_tail(self, n=60):
        return "\n".join(self.stderr_text().splitlines()[-n:])

    def _check_sanitizers(self):
        text = self.stderr_text()
        for mark in SANITIZER_MARKS:
            if mark in text:
                self.problems.append("sanitizer report (%s) in %s:\n%s"
                                     % (mark, self.stderr_path,
                                        self.stderr_tail(80)))
                return

    def stop(self, timeout=30):
        """SIGTERM; records a problem unless the exit status is 0."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                self.problems.append("server ignored SIGTERM for %ss" % timeout)
        if proc.returncode != 0:
            self.problems.append("server exited %s after SIGTERM:\n%s"
                                 % (proc.returncode, self.stderr_tail()))
        self._check_sanitizers()

    def kill(self):
        """SIGKILL, as a crash; the data directory stays."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        self._check_sanitizers()

    def restart(self, crash=False):
        if crash:
            self.kill()
        else:
            self.stop()
        return self.start()

    def assert_clean(self):
        assert not self.problems, "\n\n".join(self.problems)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The shared server; its problems fail the last test that used it."""
    endpoint = os.environ.get("SLUICE_ENDPOINT")
    if endpoint:
        # An externally started server: nothing to start or stop.
        ext = Server(str(tmp_path_factory.mktemp("external")))
        ext.endpoint = endpoint.rstrip("/")
        yield ext
        return
    srv = Server(str(tmp_path_factory.mktemp("sluice")))
    srv.start()
    yield srv
    srv.stop()
    srv.assert_clean()


@pytest.fixture
def fresh_server(tmp_path):
    """A server of this test's own, for kill and restart."""
    if os.environ.get("SLUICE_ENDPOINT"):
        pytest.skip("needs a server of its own (SLUICE_ENDPOINT is set)")
    srv = Server(str(tmp_path))
    srv.start()
    yield srv
    srv.stop()
    srv.assert_clean()


@pytest.fixture
def server_with_args(tmp_path):
    """A factory of servers of this test's own started with extra serve
    arguments (e.g. --credentials FILE); all are stopped and checked at the
    end of the test.  make(args, name) returns the started Server."""
    if os.environ.get("SLUICE_ENDPOINT"):
        pytest.skip("needs a server of its own (SLUICE_ENDPOINT is set)")
    started = []

    def make(args, name="srv"):
        srv = Server(str(tmp_path / name))
        srv.extra_args = list(args)
        started.append(srv)
        return srv.start()
    yield make
    for srv in started:
        srv.stop()
    for srv in started:
        srv.assert_clean()


@pytest.fixture(scope="session")
def endpoint(server):
    return server.endpoint


@pytest.fixture(scope="session")
def sqs(endpoint):
    return e2e_util.sqs_client(endpoint)


@pytest.fixture(scope="session")
def sqs_novalidate(endpoint):
    """A client that lets invalid parameters through to the server."""
    return e2e_util.sqs_client(endpoint, validate=False)


@pytest.fixture
def qname(request):
    """A queue-name factory: unique, valid, and readable in server logs."""
    base = "".join(c if c.isascii() and c.isalnum() else "-"
                   for c in request.node.name)[:40]

    def make(suffix=""):
        return ("%s-%s%s" % (base, uuid.uuid4().hex[:8], suffix))[:80]
    return make


@pytest.fixture
def queue(sqs, qname):
    """A factory that creates a queue and returns its URL."""
    def make(attributes=None, suffix="", **kw):
        args = {"QueueName": qname(suffix)}
        if attributes:
            args["Attributes"] = {k: str(v) for k, v in attributes.items()}
        args.update(kw)
        return sqs.create_queue(**args)["QueueUrl"]
    return make


# ---------------------------------------------------------------- timeouts

def pytest_configure(config):
    if not config.pluginmanager.hasplugin("timeout"):
        config.addinivalue_line(
            "markers", "timeout(seconds): wall-clock limit of one test")
    config.addinivalue_line(
        "markers", "slow: takes more than a few seconds")


class AlarmTimeout(BaseException):
    """Raised by the alarm; a BaseException so that no client library's
    `except Exception` (or its timeout handling) can swallow it."""


@pytest.fixture(autouse=True)
def _alarm_guard(request):
    """Per-test time limit when pytest-timeout is not installed."""
    if request.config.pluginmanager.hasplugin("timeout"):
        yield
        return
    mark = request.node.get_closest_marker("timeout")
    seconds = int(mark.args[0]) if mark and mark.args else DEFAULT_TIMEOUT

    def on_alarm(signum, frame):
        raise AlarmTimeout("test exceeded %ss" % seconds)
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def pytest_collection_modifyitems(config, items):
    """Apply the default limit through pytest-timeout too, when present."""
    if not config.pluginmanager.hasplugin("timeout"):
        return
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT))


# ------------------------------------------------------ retention probe
#
# MessageRetentionPeriod cannot go below 60 s, so a test that watches a
# message expire must wait a minute. Instead of sleeping in one test, the
# probe queue is filled when the session's first test runs, and
# test_sqs_zz_retention.py (collected last) checks it, sleeping only for
# whatever part of the minute is left.

@pytest.fixture(scope="session", autouse=True)
def retention_probe(request):
    if not any("zz_retention" in item.nodeid for item in request.session.items):
        yield None
        return
    try:
        srv = request.getfixturevalue("server")
    except pytest.skip.Exception:
        yield None
        return
    client = e2e_util.sqs_client(srv.endpoint)
    name = "retention-probe-" + uuid.uuid4().hex[:8]
    url = client.create_queue(
        QueueName=name, Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sent_at = time.time()
    client.send_message(QueueUrl=url, MessageBody="expires-while-visible")
    client.send_message(QueueUrl=url, MessageBody="expires-after-flight")
    # One of them spends 30 s in flight, then is visible again until expiry.
    got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=1,
                                 VisibilityTimeout=30)
    yield {"url": url, "sent_at": sent_at, "client": client,
           "received": len(got.get("Messages", []))}
