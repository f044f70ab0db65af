"""restored as a process: the wire edge, the socket, signals and the command line.

Everything runs the real daemon binary on a temporary unix socket:
  - protocol edge: unknown methods, undecodable request bytes and oversized requests get the
    right gRPC status (not a hang, not a crash) and the daemon keeps serving;
  - the socket: mode 0660; a second instance on the same socket is refused with a clear message
    while the first keeps serving; a stale socket (kill -9) and a dead bound socket are taken
    over; a path that is not a socket is never clobbered;
  - SIGTERM: exits 0 and removes the socket, also with RestoreAll, Watch and ListRestored in
    flight on a 3,000-container graph, five times in a row, with no sanitizer report;
  - the command line: --help names every contract flag, bad flags and values exit 2 with a
    message, --version.
"""
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import unittest

from harness import RESTORED, Daemon, GeneratedGraph, TempDirs, graphgen, grpc, pb, pb_grpc

SERVICE = "/isula.restore.v1.Restore/"
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error")


def raw(channel, method, kind="unary"):
    """A call that sends and returns bytes as they are, whatever the method."""
    ident = lambda b: b  # noqa: E731
    make = channel.unary_unary if kind == "unary" else channel.unary_stream
    return make(method, request_serializer=ident, response_deserializer=ident)


def sanitizer_lines(text):
    return [line for line in text.splitlines() if any(m in line for m in SANITIZER_MARKS)]


class ProtocolEdge(TempDirs):
    def setUp(self):
        super().setUp()
        graphgen(self.graph, self.state, "demo", seed=11)
        self.d = self.daemon().start()
        self.channel = self.d.channel()
        self.addCleanup(self.channel.close)
        self.stub = self.d.stub()

    def assert_still_serving(self):
        resp = self.stub.ListRestored(pb.ListRestoredRequest(), timeout=10)
        self.assertEqual(resp.summary.phase, pb.PHASE_IDLE)
        self.assertIsNone(self.d.proc.poll(), "restored exited:\n" + self.d.output())

    def test_unknown_methods_are_unimplemented(self):
        for method in (SERVICE + "Nope", "/isula.restore.v1.Nope/RestoreAll", "/no.such.Service/Call",
                       SERVICE + "restoreall"):
            with self.subTest(method=method):
                with self.assertRaises(grpc.RpcError) as cm:
                    raw(self.channel, method)(b"", timeout=10)
                self.assertEqual(cm.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
                self.assertIn(method, cm.exception.details())
        self.assert_still_serving()

    def test_undecodable_request_bytes_are_invalid_argument(self):
        garbage = {
            "truncated varint": b"\x08\xff\xff\xff",
            "bad wire type": b"\x0f\x01",
            "length beyond the end": b"\x12\x7fabc",
            "field number zero": b"\x00\x00",
        }
        methods = [("RestoreAll", "unary"), ("ListRestored", "unary"), ("HandleContainer", "unary"),
                   ("Watch", "stream")]
        for method, kind in methods:
            for what, payload in garbage.items():
                with self.subTest(method=method, payload=what):
                    call = raw(self.channel, SERVICE + method, kind)
                    with self.assertRaises(grpc.RpcError) as cm:
                        out = call(payload, timeout=10)
                        if kind == "stream":
                            list(out)
                    self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT,
                                     cm.exception.details())
                    self.assertIn("decode", cm.exception.details())
        # Nothing ran: a RestoreAll that could not be decoded did not start a restore.
        self.assert_still_serving()

    def test_a_request_over_the_receive_limit_is_resource_exhausted(self):
        # A valid ListRestoredRequest (prefix = 5 MiB of 'a'): only its size is wrong.
        prefix = b"a" * (5 << 20)
        payload = b"\x22" + _varint(len(prefix)) + prefix
        with self.assertRaises(grpc.RpcError) as cm:
            raw(self.channel, SERVICE + "ListRestored")(payload, timeout=30)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        # The same message just under 4 MiB is accepted (so the limit is the size, not the content).
        small = b"a" * ((4 << 20) - 64)
        ok = raw(self.channel, SERVICE + "ListRestored")(b"\x22" + _varint(len(small)) + small, timeout=30)
        parsed = pb.ListRestoredResponse.FromString(ok)
        self.assertEqual(len(parsed.containers), 0)
        self.assert_still_serving()

    def test_socket_mode_is_0660(self):
        st = os.lstat(self.d.sock)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660, oct(st.st_mode))


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


class SocketOwnership(TempDirs):
    def setUp(self):
        super().setUp()
        graphgen(self.graph, self.state, "demo", seed=12)

    def test_a_second_instance_on_the_same_socket_is_refused_and_the_first_keeps_serving(self):
        first = self.daemon().start()
        first_stub = first.stub()
        first_stub.RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=30)
        ino = os.lstat(first.sock).st_ino
        second = self.daemon(sock=first.sock)
        second.log_path = first.sock + ".second.log"
        second.start(wait=False)
        try:
            rc = second.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.fail("the second restored did not give up on a socket already served")
        second.log.close()
        out = second.output()
        self.assertNotEqual(rc, 0, out)
        self.assertIn(first.sock, out, "the message names the socket")
        self.assertRegex(out, r"another restored|already|in use", "the message says why")
        # The first instance is untouched: same socket inode, still serving the same view.
        self.assertIsNone(first.proc.poll())
        st = os.lstat(first.sock)
        self.assertTrue(stat.S_ISSOCK(st.st_mode), "the second instance removed the socket")
        self.assertEqual(st.st_ino, ino, "the second instance replaced the socket")
        summary = first_stub.ListRestored(pb.ListRestoredRequest(), timeout=10).summary
        self.assertEqual(summary.generation, 1)
        self.assertEqual(summary.phase, pb.PHASE_DONE)
        # And it still shuts down normally afterwards.
        self.assertEqual(first.stop(), 0)
        self.assertFalse(os.path.lexists(first.sock))

    def test_a_stale_socket_left_by_kill_9_is_taken_over(self):
        first = self.daemon().start()
        first.stub().RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=30)
        self.assertEqual(first.stop(signal.SIGKILL), -signal.SIGKILL)
        self.assertTrue(os.path.lexists(first.sock), "kill -9 leaves the socket file behind")
        second = self.daemon(sock=first.sock)
        second.log_path = first.sock + ".second.log"
        second.start()
        summary = second.stub().ListRestored(pb.ListRestoredRequest(), timeout=10).summary
        self.assertEqual(summary.generation, 0, "a new process answers, with a fresh view")
        self.assertEqual(stat.S_IMODE(os.lstat(second.sock).st_mode), 0o660)
        self.assertEqual(second.stop(), 0)
        self.assertFalse(os.path.lexists(second.sock))

    def test_a_bound_socket_nobody_listens_on_is_taken_over(self):
        d = self.daemon()
        os.makedirs(os.path.dirname(d.sock), exist_ok=True)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(d.sock)
        s.close()  # bound, never listened on: connect() gets ECONNREFUSED
        d.start()
        self.assertEqual(d.stub().ListRestored(pb.ListRestoredRequest(), timeout=10).summary.total, 0)

    def test_a_path_that_is_not_a_socket_is_left_alone(self):
        d = self.daemon()
        os.makedirs(os.path.dirname(d.sock), exist_ok=True)
        with open(d.sock, "w") as f:
            f.write("not a socket\n")
        d.start(wait=False)
        rc = d.proc.wait(timeout=15)
        d.log.close()
        self.assertNotEqual(rc, 0)
        self.assertIn(d.sock, d.output())
        with open(d.sock) as f:
            self.assertEqual(f.read(), "not a socket\n", "restored clobbered a regular file")

    def test_sigterm_when_idle_exits_0_and_removes_the_socket(self):
        d = self.daemon().start()
        self.assertEqual(d.stop(signal.SIGTERM, timeout=15), 0, d.output())
        self.assertFalse(os.path.lexists(d.sock), "the socket file survived SIGTERM")
        self.assertEqual(sanitizer_lines(d.output()), [])
        # SIGINT too.
        d2 = self.daemon(sock=d.sock)
        d2.log_path = d.sock + ".2.log"
        d2.start()
        self.assertEqual(d2.stop(signal.SIGINT, timeout=15), 0, d2.output())
        self.assertFalse(os.path.lexists(d2.sock))


def pb_stub(channel):
    return pb_grpc.RestoreStub(channel)


class SigtermUnderLoad(GeneratedGraph):
    """SIGTERM while a RestoreAll over 3,000 containers, an open Watch stream and a loop of
    ListRestored calls from several threads are in flight, five times over the same graph."""

    COUNT = 3000
    ROUNDS = (0.0, 0.02, 0.08, 0.2, 0.4)  # seconds between "restore is running" and SIGTERM
    EXIT_BOUND = 30  # grace (2 s) + drain (10 s) + the rest of the restore, with room for ASan

    SEED = 5

    def one_round(self, n, delay):
        d = Daemon(self.graph, self.state)
        d.start()
        self.addCleanup(d.stop, signal.SIGKILL)
        self.addCleanup(shutil.rmtree, os.path.dirname(d.sock), True)
        stop = threading.Event()
        outcome = {"restore": None, "watch": None, "watch_events": 0, "lists": [], "list_errors": []}
        restore_done = threading.Event()

        def restore():
            ch = d.channel()
            try:
                r = pb_stub(ch).RestoreAll(pb.RestoreAllRequest(), timeout=60)
                outcome["restore"] = ("ok", r.summary.total)
            except grpc.RpcError as e:
                outcome["restore"] = ("error", e.code())
            finally:
                restore_done.set()
                ch.close()

        def watch():
            ch = d.channel()
            try:
                for _ in pb_stub(ch).Watch(pb.WatchRequest(), timeout=60):
                    outcome["watch_events"] += 1
                outcome["watch"] = grpc.StatusCode.OK
            except grpc.RpcError as e:
                outcome["watch"] = e.code()
            finally:
                ch.close()

        def lister():
            ch = d.channel()
            stub = pb_stub(ch)
            ok = 0
            try:
                while not stop.is_set():
                    try:
                        stub.ListRestored(pb.ListRestoredRequest(page_size=200), timeout=10)
                        ok += 1
                    except grpc.RpcError as e:
                        if e.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                            outcome["list_errors"].append((e.code(), e.details()))
                        break
            finally:
                outcome["lists"].append(ok)
                ch.close()

        threads = [threading.Thread(target=watch, daemon=True)]
        threads += [threading.Thread(target=lister, daemon=True) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.2)  # the Watch stream is open before the restore starts
        rt = threading.Thread(target=restore, daemon=True)
        rt.start()
        threads.append(rt)

        # Wait until the restore is really running, then let it run for `delay`.
        poll = d.stub()
        deadline = time.time() + 20
        while time.time() < deadline and not restore_done.is_set():
            if poll.ListRestored(pb.ListRestoredRequest(page_size=1), timeout=10).summary.phase == pb.PHASE_RUNNING:
                break
            time.sleep(0.005)
        time.sleep(delay)
        in_flight = not restore_done.is_set()
        t0 = time.time()
        d.proc.send_signal(signal.SIGTERM)
        try:
            rc = d.proc.wait(timeout=self.EXIT_BOUND)
        except subprocess.TimeoutExpired:
            self.fail("round %d: restored did not exit within %ss of SIGTERM" % (n, self.EXIT_BOUND))
        took = time.time() - t0
        d.log.close()
        stop.set()
        for t in threads:
            t.join(15)
            self.assertFalse(t.is_alive(), "round %d: a client call hangs after the daemon exited" % n)
        log = d.output()
        self.assertEqual(rc, 0, "round %d: exit status %d after SIGTERM\n%s" % (n, rc, log[-4000:]))
        self.assertEqual(sanitizer_lines(log), [], "round %d: sanitizer report\n%s" % (n, log[-4000:]))
        self.assertFalse(os.path.lexists(d.sock), "round %d: the socket file survived SIGTERM" % n)
        self.assertEqual(outcome["list_errors"], [], "round %d: unexpected ListRestored errors" % n)
        self.assertTrue(sum(outcome["lists"]) > 0, "round %d: the ListRestored loop never got through" % n)
        kind, value = outcome["restore"]
        if kind == "ok":
            self.assertEqual(value, self.COUNT)
        else:
            self.assertIn(value, (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE), "round %d" % n)
        self.assertIn(outcome["watch"], (grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE,
                                         grpc.StatusCode.CANCELLED), "round %d: Watch ended with %s" %
                      (n, outcome["watch"]))
        self.assertGreater(outcome["watch_events"], 0, "round %d: the open Watch saw no event" % n)
        return in_flight, took

    def test_sigterm_with_calls_in_flight_exits_0_five_times(self):
        in_flight = []
        for n, delay in enumerate(self.ROUNDS):
            with self.subTest(round=n, delay=delay):
                f, took = self.one_round(n, delay)
                in_flight.append(f)
                self.assertLess(took, self.EXIT_BOUND)
        self.assertTrue(any(in_flight), "no round had the RestoreAll still in flight at SIGTERM")


class CommandLine(unittest.TestCase):
    CONTRACT_FLAGS = ("graph", "state", "socket", "listen", "tls-cert", "tls-key", "tls-ca", "runtime",
                      "runtime-timeout", "workers", "max-parallel-restarts", "restore-on-start",
                      "read-gid", "admin-gid", "log-level", "config", "help", "version")

    def run_restored(self, *args):
        return subprocess.run([RESTORED] + list(args), capture_output=True, text=True, timeout=30)

    def test_help_exits_0_and_names_every_contract_flag(self):
        p = self.run_restored("--help")
        self.assertEqual(p.returncode, 0, p.stderr)
        missing = [f for f in self.CONTRACT_FLAGS if "--" + f not in p.stdout]
        self.assertEqual(missing, [], "--help does not mention these flags")
        self.assertIn("/var/lib/isulad", p.stdout)
        self.assertIn("/run/isulad/restore.sock", p.stdout)
        self.assertEqual(self.run_restored("-h").stdout, p.stdout)

    def test_version(self):
        p = self.run_restored("--version")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout.strip(), r"^restored \d+\.\d+\.\d+")

    def test_bad_flags_and_values_exit_2_with_a_message_and_serve_nothing(self):
        tmp = tempfile.mkdtemp(prefix="restored-cli-")
        self.addCleanup(shutil.rmtree, tmp, True)
        sock = os.path.join(tmp, "s.sock")
        cases = [
            (["--bogus"], "--bogus"),
            (["--graph"], "--graph"),
            (["--workers", "abc"], "abc"),
            (["--runtime-timeout", "-1"], "--runtime-timeout"),
            (["--log-level", "loud"], "loud"),
            (["--runtime", "noequals"], "--runtime"),
            (["--config", os.path.join(tmp, "missing.json")], "missing.json"),
            (["stray-argument"], "stray-argument"),
        ]
        for args, named in cases:
            with self.subTest(args=args):
                p = self.run_restored("--socket", sock, *args)
                self.assertEqual(p.returncode, 2, "restored %s: %s" % (args, p.stderr))
                self.assertIn(named, p.stderr, "the message names what is wrong")
                self.assertEqual(p.stdout, "")
                self.assertFalse(os.path.lexists(sock), "a usage error still created the socket")

    def test_a_bad_config_file_exits_2_naming_the_file_and_key(self):
        tmp = tempfile.mkdtemp(prefix="restored-cli-")
        self.addCleanup(shutil.rmtree, tmp, True)
        cfg = os.path.join(tmp, "restored.json")
        with open(cfg, "w") as f:
            f.write('{"workers": 4, "no-such-key": true}\n')
        p = self.run_restored("--config", cfg, "--socket", os.path.join(tmp, "s.sock"))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(cfg, p.stderr)
        self.assertIn("no-such-key", p.stderr)


if __name__ == "__main__":
    unittest.main()
