"""Socket activation and the sd_notify protocol, with systemd's own tools.

systemd-socket-activate (from the systemd package) creates the listening socket, waits for the
first connection and then execs restored with LISTEN_FDS/LISTEN_PID, as restored.socket does
under PID 1. NOTIFY_SOCKET points at a datagram socket this test binds, so every READY=1,
STATUS=... and STOPPING=1 restored sends is seen, in order, as systemd would see it.

Checked: a real client call (python grpcio and restorectl) through the activated socket; the
daemon serves the passed socket and does not create its own --socket; READY=1 and STATUS=
lines; with --restore-on-start, READY=1 only once that restore has finished (the restore is
made slow on purpose: live shims and a runtime that answers after SLOW seconds); STOPPING=1 on
SIGTERM, exit 0, and the socket systemd made is left in place; no READY=1 after STOPPING=1
when stopped during the start-up restore; two passed sockets are both served; a passed socket
restored cannot serve (TCP) makes it exit 1 instead of running with no listener.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import RESTORECTL, RESTORED, _empty_config, graphgen, grpc, pb, pb_grpc
from test_health import NAMES, SLOW, check, make_shims_alive, slow_runtime

ACTIVATE = shutil.which("systemd-socket-activate") or "/usr/bin/systemd-socket-activate"
# systemd-socket-activate hands its child only TERM, PATH, USER, HOME and what -E names: keep
# the sanitizer settings of an ASan run (tests/run.sh) for the daemon.
PASS_ENV = ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS")


class Notify:
    """The NOTIFY_SOCKET side of sd_notify: a datagram socket and a reader thread."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.msgs = []  # (monotonic time, text)
        self.cond = threading.Condition()
        self.stopped = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while not self.stopped:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            with self.cond:
                self.msgs.append((time.monotonic(), data.decode(errors="replace")))
                self.cond.notify_all()

    def lines(self):
        """Every assignment received, in order: [(time, index of datagram, "KEY=value")]."""
        with self.cond:
            return [(t, i, line) for i, (t, m) in enumerate(self.msgs) for line in m.split("\n") if line]

    def wait_for(self, pred, timeout=30):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, i, line in self.lines():
                    if pred(line):
                        return t, i, line
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no notification matching within %ss; got %r" %
                                         (timeout, [m for _, m in self.msgs]))
                self.cond.wait(left)

    def close(self):
        self.stopped = True
        self.thread.join(5)
        self.sock.close()


class ActivatedDaemon:
    """restored started by systemd-socket-activate on `sock`, notifying `notify` (a path)."""

    def __init__(self, tmp, graph, state, sock, notify=None, args=(), extra_listen=()):
        """sock: the first address to listen on (a path, or HOST:PORT); extra_listen: more."""
        self.sock = sock
        self.own_socket = os.path.join(tmp, "not-used.sock")  # --socket: must stay unused
        self.log_path = os.path.join(tmp, "activated.log")
        cmd = [ACTIVATE, "-l", sock]
        for addr in extra_listen:
            cmd += ["-l", addr]
        if notify:
            cmd += ["-E", "NOTIFY_SOCKET=" + notify]
        for k in PASS_ENV:
            if k in os.environ:
                cmd += ["-E", "%s=%s" % (k, os.environ[k])]
        cmd += [RESTORED, "--graph", graph, "--state", state, "--socket", self.own_socket,
                "--config", _empty_config()] + list(args)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while "Listening on %s " % sock not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("systemd-socket-activate did not listen on %s:\n%s" % (sock, self.output()))
            time.sleep(0.02)

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def channel(self):
        return grpc.insecure_channel("unix:" + self.sock)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()
        return self.proc.returncode


class SocketActivation(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="restored-sa-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.graph = os.path.join(self.tmp, "graph")
        self.state = os.path.join(self.tmp, "state")
        self.manifest = graphgen(self.graph, self.state, "demo", seed=13)
        self.sock = os.path.join(self.tmp, "restore.sock")
        self.notify = Notify(os.path.join(self.tmp, "notify.sock"))
        self.addCleanup(self.notify.close)

    def activate(self, args=()):
        d = ActivatedDaemon(self.tmp, self.graph, self.state, self.sock, self.notify.path, args)
        self.addCleanup(d.stop, signal.SIGKILL)
        return d

    def test_activated_socket_serves_clients_and_notifies_ready_status_stopping(self):
        d = self.activate()
        time.sleep(0.3)
        self.assertEqual(self.notify.msgs, [], "restored runs only once a client connects")
        self.assertIsNone(d.proc.poll())

        # The first connection starts restored; the call waits in the socket's backlog.
        stub = pb_grpc.RestoreStub(d.channel())
        first = stub.ListRestored(pb.ListRestoredRequest(), timeout=30)
        self.assertEqual(first.summary.generation, 0, "nothing restored yet")
        self.assertEqual(first.summary.phase, pb.PHASE_IDLE)

        _, ready_i, _ = self.notify.wait_for(lambda l: l == "READY=1", timeout=15)
        status = [l for _, i, l in self.notify.lines() if l.startswith("STATUS=")]
        self.assertTrue(status, "a STATUS= line comes with READY=1")
        self.assertIn("no restore has run yet", status[0])

        out = d.output()
        self.assertIn("serving the socket passed by systemd (fd 3)", out)
        self.assertFalse(os.path.exists(d.own_socket), "--socket is not created when systemd passes one")
        self.assertNotIn("listening on " + d.own_socket, out)

        # Real work through the activated socket: a restore, health, and the CLI.
        resp = stub.RestoreAll(pb.RestoreAllRequest(), timeout=60)
        self.assertEqual(resp.summary.total, self.manifest["total"])
        self.assertEqual(resp.summary.failed, self.manifest["failed"])
        self.assertEqual(NAMES[check(d.channel())], "SERVING")
        _, _, done = self.notify.wait_for(lambda l: l.startswith("STATUS=generation 1:"), timeout=10)
        self.assertIn("%d restored, %d failed of %d" % (resp.summary.restored, resp.summary.failed,
                                                        resp.summary.total), done)
        p = subprocess.run([RESTORECTL, "--socket", self.sock, "-o", "json", "list"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 3, "restorectl list: exit 3 as some containers failed\n" + p.stderr)
        self.assertIn('"containers"', p.stdout)
        # Only one READY=1, however many clients came.
        self.assertEqual([l for _, _, l in self.notify.lines()].count("READY=1"), 1)

        d.proc.send_signal(signal.SIGTERM)
        _, stop_i, _ = self.notify.wait_for(lambda l: l == "STOPPING=1", timeout=15)
        self.assertGreater(stop_i, ready_i)
        self.assertEqual(d.proc.wait(timeout=20), 0, d.output())
        self.assertTrue(os.path.exists(self.sock), "the socket systemd made is systemd's to remove")

    def test_restore_on_start_ready_only_after_that_restore(self):
        make_shims_alive(self)
        d = self.activate(["--restore-on-start", "--runtime", "runc=" + slow_runtime(self)])
        t0 = time.monotonic()
        ch = d.channel()
        # This call starts restored, and is answered while the start-up restore still runs.
        self.assertEqual(NAMES[check(ch, timeout=30)], "NOT_SERVING")
        self.assertNotIn("READY=1", [l for _, _, l in self.notify.lines()],
                         "READY=1 before the start-up restore finished")
        progress = self.notify.wait_for(lambda l: l.startswith("STATUS=restoring generation 1"), timeout=15)

        t_ready, ready_i, _ = self.notify.wait_for(lambda l: l == "READY=1", timeout=60)
        self.assertEqual(NAMES[check(ch)], "SERVING", "health is SERVING by the time systemd hears READY=1")
        self.assertGreaterEqual(t_ready - t0, SLOW, "READY=1 came before the slow restore could finish")
        _, done_i, done = self.notify.wait_for(lambda l: l.startswith("STATUS=generation 1:"), timeout=1)
        self.assertLessEqual(done_i, ready_i, "the final STATUS= precedes READY=1")
        self.assertLess(progress[1], ready_i, "progress STATUS= lines precede READY=1")
        self.assertIn("of %d" % self.manifest["total"], done)
        lines = [l for _, _, l in self.notify.lines()]
        self.assertEqual(lines.count("READY=1"), 1)

        self.assertEqual(d.stop(signal.SIGTERM), 0, d.output())
        self.notify.wait_for(lambda l: l == "STOPPING=1", timeout=5)

    def test_stopped_during_the_start_up_restore_never_says_ready(self):
        # SIGTERM while the start-up restore runs: shutdown waits for that restore, whose end
        # must not send READY=1 after STOPPING=1 (nor turn health back to SERVING).
        make_shims_alive(self)
        d = self.activate(["--restore-on-start", "--runtime", "runc=" + slow_runtime(self)])
        self.assertEqual(NAMES[check(d.channel(), timeout=30)], "NOT_SERVING")
        self.notify.wait_for(lambda l: l.startswith("STATUS=restoring generation 1"), timeout=15)
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.proc.wait(timeout=60), 0, d.output())
        self.assertIn("restore finished", d.output(), "shutdown let the running restore finish")
        lines = [l for _, _, l in self.notify.lines()]
        self.assertIn("STOPPING=1", lines)
        self.assertNotIn("READY=1", lines, "READY=1 after STOPPING=1: %r" % lines)

    def test_two_passed_sockets_are_both_served(self):
        second = os.path.join(self.tmp, "second.sock")
        d = ActivatedDaemon(self.tmp, self.graph, self.state, self.sock, self.notify.path, extra_listen=[second])
        self.addCleanup(d.stop, signal.SIGKILL)
        self.assertEqual(NAMES[check(d.channel(), timeout=30)], "NOT_SERVING")  # starts restored
        ch2 = grpc.insecure_channel("unix:" + second)
        self.addCleanup(ch2.close)
        self.assertEqual(NAMES[check(ch2)], "NOT_SERVING", "the second passed socket is served too")
        out = d.output()
        self.assertIn("serving the socket passed by systemd (fd 3)", out)
        self.assertIn("serving the socket passed by systemd (fd 4)", out)
        self.assertEqual(d.stop(), 0, out)

    def test_a_passed_socket_restored_cannot_serve_is_an_error_not_a_silent_hang(self):
        # systemd-socket-activate hands over a TCP socket (a restored.socket edited to
        # ListenStream=PORT). restored serves only unix sockets there (TCP needs TLS, --listen);
        # it must fail, not report READY=1 while the client that woke it waits forever.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        d = ActivatedDaemon(self.tmp, self.graph, self.state, "127.0.0.1:%d" % port, self.notify.path)
        self.addCleanup(d.stop, signal.SIGKILL)
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            try:
                rc = d.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                rc = None
        self.assertEqual(rc, 1, "restored exits 1 when no passed socket is usable\n" + d.output())
        self.assertIn("none of them a listening unix stream socket", d.output())
        self.assertNotIn("READY=1", [l for _, _, l in self.notify.lines()])


if __name__ == "__main__":
    unittest.main()
