"""grpc.health.v1.Health against the real daemon, through python grpcio.

NOT_SERVING until the first restore has finished, then SERVING (CONTRACT §3); Watch pushes the
change as it happens; NOT_SERVING is pushed again when the daemon shuts down. Health messages
are encoded by hand (two tiny messages) rather than with generated stubs, whose "grpc/" package
would shadow the grpc module.

The restore-on-start case needs a restore that takes a while: every running container's shim
is made "alive" (shim-pid names a sleep process of this test) and the runtime is a script that
answers `state` after SLOW seconds, so the first restore lasts at least that long.
"""
import os
import queue
import signal
import subprocess
import threading
import time
import unittest

from harness import TempDirs, graphgen, grpc, pb

CHECK = "/grpc.health.v1.Health/Check"
WATCH = "/grpc.health.v1.Health/Watch"
UNKNOWN, SERVING, NOT_SERVING, SERVICE_UNKNOWN = 0, 1, 2, 3
NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}
SLOW = 2.0


def encode_request(service=""):
    data = service.encode()
    return b"" if not data else b"\x0a" + bytes([len(data)]) + data  # names < 128 bytes


def decode_status(buf):
    """HealthCheckResponse {ServingStatus status = 1;}: absent means UNKNOWN (0)."""
    if not buf:
        return UNKNOWN
    assert buf[0] == 0x08, "unexpected HealthCheckResponse bytes %r" % buf
    value, shift = 0, 0
    for b in buf[1:]:
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    return value


def check(channel, service="", timeout=10):
    call = channel.unary_unary(CHECK)
    return decode_status(call(encode_request(service), timeout=timeout))


class HealthWatch:
    """A Watch stream read on its own thread; statuses land in a queue."""

    def __init__(self, channel, service=""):
        self.q = queue.Queue()
        self.call = channel.unary_stream(WATCH)(encode_request(service), timeout=60)
        self.error = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for msg in self.call:
                self.q.put(decode_status(msg))
        except grpc.RpcError as e:
            self.error = e
        self.q.put(None)  # end of stream

    def next(self, timeout=15):
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no health update within %ss" % timeout)

    def cancel(self):
        self.call.cancel()
        self.thread.join(10)


class Health(TempDirs):
    def setUp(self):
        super().setUp()
        graphgen(self.graph, self.state, "demo", seed=11)

    def daemon(self, **kw):
        # Inside self.tmp, so that tearDown removes the socket's directory too.
        return super().daemon(sock=os.path.join(self.tmp, "restore.sock"), **kw)

    def test_not_serving_before_the_first_restore_then_serving_pushed_by_watch(self):
        d = self.daemon().start()
        ch = d.channel()
        self.assertEqual(NAMES[check(ch)], "NOT_SERVING")
        self.assertEqual(NAMES[check(ch, "isula.restore.v1.Restore")], "NOT_SERVING")
        w = HealthWatch(ch)
        self.addCleanup(w.cancel)
        self.assertEqual(NAMES[w.next()], "NOT_SERVING", "Watch sends the current status first")
        # Nothing changes by itself: no restore, no push.
        time.sleep(0.5)
        self.assertTrue(w.q.empty(), "no update without a restore")
        self.assertEqual(NAMES[check(ch)], "NOT_SERVING")

        # A dry run restores nothing: still NOT_SERVING.
        dry = d.stub().RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=60)
        self.assertEqual(dry.summary.phase, pb.PHASE_DONE)
        time.sleep(0.3)
        self.assertTrue(w.q.empty(), "a dry run changed the health status")
        self.assertEqual(NAMES[check(ch)], "NOT_SERVING")

        resp = d.stub().RestoreAll(pb.RestoreAllRequest(), timeout=60)
        self.assertEqual(resp.summary.phase, pb.PHASE_DONE)
        self.assertEqual(NAMES[w.next()], "SERVING", "Watch pushes SERVING when the restore finishes")
        self.assertEqual(NAMES[check(ch)], "SERVING")
        self.assertEqual(NAMES[check(ch, "isula.restore.v1.Restore")], "SERVING")
        # A later restore does not flap the status.
        d.stub().RestoreAll(pb.RestoreAllRequest(), timeout=60)
        time.sleep(0.3)
        self.assertTrue(w.q.empty(), "a second restore pushes nothing new")
        self.assertEqual(NAMES[check(ch)], "SERVING")

    def test_at_most_256_watch_streams_at_once(self):
        d = self.daemon().start()
        # 100 concurrent streams per connection (gRPC's default): several connections (a
        # local subchannel pool each, or grpcio shares one connection among the channels).
        channels = [grpc.insecure_channel("unix:" + d.sock, options=[
            ("grpc.use_local_subchannel_pool", 1)]) for _ in range(3)]
        watches = [HealthWatch(channels[i % 3]) for i in range(256)]
        try:
            for w in watches:
                self.assertEqual(w.next(), NOT_SERVING)
            extra = HealthWatch(channels[0])
            self.assertIsNone(extra.next(), "the 257th stream was not refused")
            self.assertEqual(extra.error.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
            self.assertIn("at most 256", extra.error.details())
            watches[0].cancel()
            time.sleep(0.5)  # the cancel reaches the server and frees a slot
            again = HealthWatch(channels[1])
            self.assertEqual(again.next(), NOT_SERVING, "a freed slot cannot be reused")
            again.cancel()
        finally:
            for w in watches:
                w.cancel()
            for c in channels:
                c.close()

    def test_unknown_service(self):
        d = self.daemon().start()
        ch = d.channel()
        with self.assertRaises(grpc.RpcError) as cm:
            check(ch, "no.such.Service")
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)
        w = HealthWatch(ch, "no.such.Service")
        self.addCleanup(w.cancel)
        self.assertEqual(NAMES[w.next()], "SERVICE_UNKNOWN")
        d.stub().RestoreAll(pb.RestoreAllRequest(), timeout=60)
        time.sleep(0.3)
        self.assertTrue(w.q.empty(), "an unknown service's watcher is not told SERVING")

    def test_restore_on_start_serving_only_once_that_restore_finished(self):
        sleeper = make_shims_alive(self)
        d = self.daemon(args=["--restore-on-start", "--runtime", "runc=" + slow_runtime(self)])
        t0 = time.monotonic()  # the restore starts after this
        d.start()
        t1 = time.monotonic()  # ... and before this
        ch = d.channel()
        w = HealthWatch(ch)
        self.addCleanup(w.cancel)
        first = w.next()
        summary = d.stub().ListRestored(pb.ListRestoredRequest(), timeout=10).summary
        self.assertLess(time.monotonic() - t1, SLOW, "the test itself was too slow to see the restore run")
        self.assertEqual(NAMES[first], "NOT_SERVING", "NOT_SERVING while the start-up restore runs")
        self.assertEqual(NAMES[check(ch)], "NOT_SERVING")
        self.assertEqual(summary.phase, pb.PHASE_RUNNING, "ListRestored shows the restore in progress")
        self.assertEqual(NAMES[w.next(timeout=30)], "SERVING")
        summary = d.stub().ListRestored(pb.ListRestoredRequest(), timeout=10).summary
        self.assertEqual(summary.phase, pb.PHASE_DONE)
        self.assertEqual(summary.generation, 1)
        self.assertGreaterEqual(time.monotonic() - t0, SLOW, "SERVING came before the slow restore could end")
        self.assertIsNone(sleeper.poll(), "restored never signals a process it only probes")

    def test_shutdown_pushes_not_serving_then_ends_the_stream(self):
        d = self.daemon().start()
        ch = d.channel()
        d.stub().RestoreAll(pb.RestoreAllRequest(), timeout=60)
        w = HealthWatch(ch)
        self.addCleanup(w.cancel)
        self.assertEqual(NAMES[w.next()], "SERVING")
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(NAMES.get(w.next(), "end of stream"), "NOT_SERVING",
                         "NOT_SERVING is pushed when the daemon stops")
        self.assertIsNone(w.next(), "the stream ends after NOT_SERVING")
        self.assertEqual(d.proc.wait(timeout=20), 0)
        self.assertIn("shutting down", d.output())


def slow_runtime(case):
    """A runc stand-in whose every answer takes SLOW seconds and says 'no such container'."""
    path = os.path.join(case.tmp, "slow-runc")
    with open(path, "w") as f:
        f.write("#!/bin/sh\nsleep %s\necho 'container does not exist' >&2\nexit 1\n" % SLOW)
    os.chmod(path, 0o755)
    return path


def make_shims_alive(case):
    """Points every shim-pid of the state root at a live process, so sync asks the runtime."""
    sleeper = subprocess.Popen(["sleep", "300"])
    case.addCleanup(lambda: (sleeper.kill(), sleeper.wait()))
    n = 0
    for dirpath, _, files in os.walk(case.state):
        if "shim-pid" in files:
            with open(os.path.join(dirpath, "shim-pid"), "w") as f:
                f.write(str(sleeper.pid))
            n += 1
    case.assertGreater(n, 0, "the graph has running containers with a shim-pid")
    return sleeper


if __name__ == "__main__":
    unittest.main()
