"""Restore of REAL runc containers, laid out as iSulad lays them out (runc_helpers.py).

Each container is started by build/bin/test-shim (an isulad-shim stand-in) from a bundle made
by mkbundle.sh, in <state>/<rt>/<id>/ with runc --root <state>/<rt>/<id>/<rt>; its
container_state.json (written with tests/tools/graphgen.py) holds the real 4-tuple: Pid from
<workdir>/pid, PPid its parent (the shim, a subreaper) and both start times from
/proc/<pid>/stat field 22. The daemon runs with --runtime runc=$(command -v runc).

  RuncRestore      one graph, one daemon: a running container, a paused one, one killed while
                   the daemon was down, one whose shim was killed, a live unrelated pid recorded
                   with the wrong start time, a health-checked one; dry run, first and second
                   restore, exit FIFO untouched, liveness after restore (Watch, ListRestored,
                   HandleContainer)
  HungRuntime      --runtime runc=<a script that sleeps> --runtime-timeout 1
  HostReboot       the state dir is gone: every formerly running container is stopped, to GC
  CrashDuringWriteBack
                   SIGKILL of the daemon while it rewrites ~1,300 container_state.json files

Every runc container, shim, helper process and temp dir is removed in class cleanups, which
run even when setUpClass fails.
"""
import datetime
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Daemon, grpc, pb, snapshot_tree
import runc_helpers as rh

K = pb.WatchEvent
NEVER = "0001-01-01T00:00:00Z"
PIDS = ("Pid", "PPid", "StartTime", "PStartTime")

SKIP = rh.skip_reason()
if SKIP is None:
    rh.become_subreaper()


def by_id(results):
    return {r.id: r for r in results}


def tup(proc):
    return (proc.pid, proc.ppid, proc.start_time, proc.p_start_time)


def parse_isulad_time(s):
    """"2026-05-01T10:00:00.123456789+08:00" -> aware datetime (nanoseconds cut to micro)."""
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", s)
    if not m:
        raise ValueError("not an iSulad timestamp: %r" % s)
    frac = (m.group(2) or "")[:6].ljust(6, "0")
    tz = "+00:00" if m.group(3) == "Z" else m.group(3)
    return datetime.datetime.fromisoformat("%s.%s%s" % (m.group(1), frac, tz))


class Reader:
    """Reads one Watch stream on a thread into a queue."""

    def __init__(self, stream):
        self.stream = stream
        self.q = queue.Queue()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            for ev in self.stream:
                self.q.put(ev)
        except grpc.RpcError:
            pass

    def until(self, pred, timeout):
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                return None
            try:
                ev = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if pred(ev):
                return ev

    def close(self):
        self.stream.cancel()
        self.t.join(10)


class RuncCase(unittest.TestCase):
    """Class-level temp dir, bundle and cleanups shared by the runc test classes."""

    @classmethod
    def setup_dirs(cls, prefix):
        if SKIP:
            raise unittest.SkipTest(SKIP)
        rh.check_tools()
        cls.tmp = tempfile.mkdtemp(prefix=prefix)
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.graph = os.path.join(cls.tmp, "graph")
        cls.state = os.path.join(cls.tmp, "state")
        os.makedirs(cls.graph)
        os.makedirs(cls.state)
        cls.bundle = rh.make_bundle(os.path.join(cls.tmp, "bundle"))

    @classmethod
    def start_real(cls, g, rt="runc", runtime_bin=None):
        c = rh.RealContainer(cls.state, rt, g.new_id(), cls.bundle, runtime_bin)
        # registered before start: a half-started container is cleaned up too (LIFO: before rmtree)
        cls.addClassCleanup(c.destroy)
        return c.start()

    @classmethod
    def start_daemon(cls, *args):
        d = Daemon(cls.graph, cls.state, sock=os.path.join(cls.tmp, "restore-%d.sock" % time.monotonic_ns()),
                   args=["--runtime", "runc=" + rh.RUNC] + list(args))
        cls.addClassCleanup(d.stop, signal.SIGKILL)
        return d.start()


class RuncRestore(RuncCase):
    @classmethod
    def setUpClass(cls):
        cls.setup_dirs("restored-runc-")
        g = rh.new_graph(cls.graph, cls.state, seed=41)
        cls.real = {}
        for case in ("web", "fifo", "paused", "killed", "shimkilled"):
            cls.real[case] = cls.start_real(g)
        cls.real["paused"].pause()

        # A live process that is NOT the container: same pid, another start time, no shim.
        cls.stranger = subprocess.Popen(["sleep", "600"])
        cls.addClassCleanup(cls.stranger.wait, 10)
        cls.addClassCleanup(cls.stranger.kill)
        s_pid = cls.stranger.pid
        _, _, s_start = rh.proc_stat(s_pid)
        cls.stranger_start = s_start
        me_start = rh.proc_stat(os.getpid())[2]
        cls.reused_id = g.new_id()
        cls.reused_tuple = (s_pid, os.getpid(), s_start + 12345, me_start + 777)

        r = cls.real
        cls.ctr = {
            "web": rh.add_container(
                g, "web", "web", r["web"], policy="always",
                healthcheck={"Test": ["CMD-SHELL", "true"]},
                health_state={"Status": "unhealthy", "FailingStreak": 3, "Log": [
                    {"Start": "2024-05-01T10:00:40.000001000+08:00",
                     "End": "2024-05-01T10:00:40.052000000+08:00", "ExitCode": 1, "Output": "no"}]}),
            "fifo": rh.add_container(g, "fifo", "fifo", r["fifo"]),
            "paused": rh.add_container(g, "paused", "paused", r["paused"], status="paused",
                                       policy="on-failure"),
            "killed": rh.add_container(
                g, "killed", "killed", r["killed"], policy="unless-stopped",
                unknown=[("FinishedAt", "XVendorNote", {"keep": ["me", 1]}),
                         ("StartedAt", "ZLastUnknown", "still here")]),
            "shimkilled": rh.add_container(g, "shimkilled", "shimkilled", r["shimkilled"]),
            "reused": rh.add_container(g, "reused", "reused", cid=cls.reused_id,
                                       tuple_=cls.reused_tuple),
        }
        cls.ids = {k: c.id for k, c in cls.ctr.items()}
        g.write()

        # What happened while the daemon was down.
        r["killed"].kill("KILL")
        if not r["killed"].wait_exit():
            raise AssertionError("the killed container or its shim did not exit")
        r["shimkilled"].kill_shim()
        if not rh.alive(r["shimkilled"].pid, r["shimkilled"].start_time):
            raise AssertionError("the container died with its shim")

        cls.state_before = {k: rh.read_bytes(rh.state_path(cls.graph, "runc", i))
                            for k, i in cls.ids.items()}
        cls.d = cls.start_daemon()
        cls.stub = cls.d.stub()

        cls.snap0 = (snapshot_tree(cls.graph), snapshot_tree(cls.state))
        cls.dry = cls.stub.RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=60)
        cls.snap_dry = (snapshot_tree(cls.graph), snapshot_tree(cls.state))
        cls.first = cls.stub.RestoreAll(pb.RestoreAllRequest(), timeout=60)
        cls.fds_after_first = rh.fd_targets(cls.d.proc.pid)
        cls.snap1 = (snapshot_tree(cls.graph), snapshot_tree(cls.state))
        cls.gc1 = rh.gc_entries(cls.graph)
        cls.second = cls.stub.RestoreAll(pb.RestoreAllRequest(), timeout=60)
        cls.snap2 = (snapshot_tree(cls.graph), snapshot_tree(cls.state))
        cls.res = by_id(cls.first.results)
        # Here, not in a test: the tests that kill containers may run first.
        cls.list_fifo = cls.stub.ListRestored(pb.ListRestoredRequest(prefix=cls.ids["fifo"]),
                                              timeout=10).containers
        cls.handle_fifo = cls.stub.HandleContainer(
            pb.HandleContainerRequest(id=cls.ctr["fifo"].name), timeout=30).result
        cls.fifo_state_after_handle = rh.read_bytes(rh.state_path(cls.graph, "runc", cls.ids["fifo"]))
        cls.alive_after = {k: rh.alive(c.pid, c.start_time) for k, c in cls.real.items()}

    def result(self, case):
        r = self.res.get(self.ids[case])
        self.assertIsNotNone(r, "no result for " + case)
        self.assertEqual(r.outcome, pb.OUTCOME_RESTORED, "%s: %s" % (case, r.error))
        self.assertEqual(r.stage, pb.STAGE_HANDLE)
        return r

    def state_doc(self, case, ordered=False):
        """container_state.json as the first restore left it."""
        rel = os.path.join("engines", "runc", self.ids[case], "container_state.json")
        return rh.read_json_bytes(self.snap1[0][rel][1], ordered)

    def fifo_of(self, case):
        return os.path.join(self.state, "runc", self.ids[case], "exit_fifo")

    # -- running / paused -------------------------------------------------------------------

    def test_running_container_is_reattached_with_its_real_identity(self):
        real = self.real["fifo"]
        r = self.result("fifo")
        self.assertEqual(r.persisted_status, pb.STATUS_RUNNING)
        self.assertEqual(r.status, pb.STATUS_RUNNING)
        self.assertEqual(r.action, pb.ACTION_REATTACH)
        self.assertEqual(r.exit_fifo, self.fifo_of("fifo"))
        self.assertEqual(tup(r.process), real.tuple)
        self.assertEqual(r.process.ppid, real.shim_pid)
        self.assertEqual(r.exit_code, 0)
        # Same process as recorded: nothing to write.
        self.assertFalse(r.state_written)
        self.assertEqual(self.snap1[0].get(os.path.join("engines", "runc", real.id, "container_state.json")),
                         self.snap0[0].get(os.path.join("engines", "runc", real.id, "container_state.json")))
        # The same through ListRestored and a (real, not dry) HandleContainer by name.
        self.assertEqual([(x.status, x.action, tup(x.process)) for x in self.list_fifo],
                         [(pb.STATUS_RUNNING, pb.ACTION_REATTACH, real.tuple)])
        h = self.handle_fifo
        self.assertEqual((h.id, h.status, h.action, tup(h.process), h.exit_fifo),
                         (real.id, pb.STATUS_RUNNING, pb.ACTION_REATTACH, real.tuple, self.fifo_of("fifo")))
        self.assertEqual(self.fifo_state_after_handle, self.state_before["fifo"])
        # Restore decides and reports: every container process it found is still there.
        self.assertEqual(self.alive_after, {"web": True, "fifo": True, "paused": True,
                                            "killed": False, "shimkilled": True})

    def test_paused_container_is_reattached_paused(self):
        real = self.real["paused"]
        r = self.result("paused")
        self.assertEqual(r.persisted_status, pb.STATUS_PAUSED)
        self.assertEqual(r.status, pb.STATUS_PAUSED)
        self.assertEqual(r.action, pb.ACTION_REATTACH)
        self.assertEqual(tup(r.process), real.tuple)
        self.assertEqual(r.exit_fifo, self.fifo_of("paused"))
        self.assertEqual(real.state(), "paused", "restore must not resume it")
        doc = self.state_doc("paused")
        self.assertTrue(doc.get("Paused") and doc.get("Running"))

    # -- stopped behind the daemon's back ---------------------------------------------------

    def test_container_killed_while_the_daemon_was_down_is_stopped_and_handed_to_gc(self):
        real, cid = self.real["killed"], self.ids["killed"]
        r = self.result("killed")
        self.assertEqual(r.persisted_status, pb.STATUS_RUNNING)
        self.assertEqual(r.status, pb.STATUS_STOPPED)
        self.assertEqual(r.exit_code, 255)
        self.assertEqual(r.action, pb.ACTION_SKIP_GC)
        self.assertEqual(tup(r.process), (0, 0, 0, 0))
        self.assertTrue(r.state_written)
        # garbage.json gained it; nothing of its old identity is alive for GC to kill.
        self.assertIn(cid, self.gc1)
        e = self.gc1[cid]
        self.assertEqual(e.get("runtime"), "runc")
        self.assertEqual([e.get(k, 0) for k in ("pid", "StartTime", "ppid", "PStartTime")], [0, 0, 0, 0])
        # container_state.json rewritten: pids zeroed, exit 255, FinishedAt now; unknown keys kept.
        old = rh.read_json_bytes(self.state_before["killed"])
        new = self.state_doc("killed")
        self.assertEqual(tuple(old[k] for k in PIDS), real.tuple, "the real 4-tuple was persisted")
        for k in PIDS:
            self.assertEqual(new.get(k, 0), 0, k)
        self.assertFalse(new.get("Running", False))
        self.assertEqual(new.get("ExitCode"), 255)
        self.assertNotEqual(new.get("FinishedAt"), old.get("FinishedAt"))
        self.assertNotEqual(new.get("FinishedAt", NEVER), NEVER)
        finished = parse_isulad_time(new["FinishedAt"])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((now - finished).total_seconds()), 600, new["FinishedAt"])
        self.assertEqual(new.get("XVendorNote"), {"keep": ["me", 1]})
        self.assertEqual(new.get("ZLastUnknown"), "still here")
        self.assertEqual(new.get("StartedAt"), old.get("StartedAt"))
        # Key order of the original is kept (keys present in both, in the same order).
        old_keys = [k for k, _ in rh.read_json_bytes(self.state_before["killed"], ordered=True)]
        new_keys = [k for k, _ in self.state_doc("killed", ordered=True)]
        both = [k for k in old_keys if k in new_keys]
        self.assertEqual([k for k in new_keys if k in both], both)
        self.assertLess(new_keys.index("XVendorNote"), new_keys.index("StartedAt"))

    def test_shim_killed_container_is_stopped_and_gc_gets_the_live_process(self):
        # iSulad's rt_isula_status() first checks the shim: shim-pid is dead -> the status
        # call fails -> treated as STOPPED; S=RUNNING -> forced stop (255) and GC, with
        # {Pid, StartTime} because that exact process is still alive (research §3.3).
        real, cid = self.real["shimkilled"], self.ids["shimkilled"]
        r = self.result("shimkilled")
        self.assertEqual(r.status, pb.STATUS_STOPPED)
        self.assertEqual(r.action, pb.ACTION_SKIP_GC)
        self.assertEqual(r.exit_code, 255)
        self.assertIn(cid, self.gc1)
        e = self.gc1[cid]
        self.assertEqual((e.get("pid"), e.get("StartTime")), (real.pid, real.start_time))
        self.assertEqual((e.get("ppid", 0), e.get("PStartTime", 0)), (0, 0), "the shim is dead")
        # restored decides and reports; it never signals the container.
        self.assertTrue(rh.alive(real.pid, real.start_time))
        self.assertEqual(real.state(), "running")

    def test_live_unrelated_process_with_the_recorded_pid_is_never_the_container(self):
        r = self.result("reused")
        self.assertEqual(r.persisted_status, pb.STATUS_RUNNING)
        self.assertEqual(r.status, pb.STATUS_STOPPED)
        self.assertEqual(r.action, pb.ACTION_SKIP_GC)
        self.assertEqual(r.exit_code, 255)
        self.assertEqual(r.process.pid, 0)
        self.assertEqual(tup(r.process), (0, 0, 0, 0))
        e = self.gc1.get(self.reused_id)
        self.assertIsNotNone(e)
        self.assertEqual([e.get(k, 0) for k in ("pid", "StartTime", "ppid", "PStartTime")], [0, 0, 0, 0],
                         "neither the stranger nor the test process may be handed to GC")
        self.assertEqual(self.state_doc("reused").get("Pid", 0), 0)
        self.assertIsNone(self.stranger.poll(), "the unrelated process was killed")
        st = rh.proc_stat(self.stranger.pid)
        self.assertEqual(st[2], self.stranger_start)
        self.assertNotIn(st[0], ("T", "t", "Z"), "the unrelated process was stopped or killed")

    # -- health ----------------------------------------------------------------------------

    def test_health_checked_container_is_reset_to_starting_and_persisted(self):
        r = self.result("web")
        self.assertEqual(r.action, pb.ACTION_REATTACH)
        self.assertEqual(tup(r.process), self.real["web"].tuple)
        self.assertTrue(r.health.configured)
        self.assertEqual(r.health.status, "starting")
        self.assertTrue(r.state_written)
        h = self.state_doc("web").get("Health")
        self.assertIsNotNone(h)
        self.assertEqual(h.get("Status"), "starting")
        self.assertEqual(h.get("FailingStreak", 0), 0)
        self.assertEqual(len(h.get("Log") or []), 1, "the probe history is kept")
        # Not health-checked: nothing configured.
        self.assertFalse(self.result("fifo").health.configured)

    # -- dry run, second restore -------------------------------------------------------------

    def test_dry_run_reports_the_pending_changes_and_writes_nothing(self):
        self.assertTrue(self.dry.summary.dry_run)
        d = by_id(self.dry.results)
        self.assertEqual(d[self.ids["killed"]].status, pb.STATUS_STOPPED)
        self.assertEqual(d[self.ids["shimkilled"]].action, pb.ACTION_SKIP_GC)
        self.assertEqual(d[self.ids["web"]].health.status, "starting")
        self.assertEqual(d[self.ids["fifo"]].action, pb.ACTION_REATTACH)
        self.assertFalse(any(x.state_written for x in self.dry.results))
        self.assertEqual(self.snap_dry[0], self.snap0[0], "a dry run changed the graph")
        self.assertEqual(self.snap_dry[1], self.snap0[1], "a dry run changed the state dir")
        # ...and the real restore then did change them (so the comparison above could fail).
        self.assertNotEqual(self.snap1[0], self.snap0[0])
        self.assertIn("garbage.json", self.snap1[0])
        self.assertNotIn("garbage.json", self.snap0[0])
        # The dry run decided what the real restore did.
        key = lambda rs: [(x.id, x.status, x.action, x.exit_code, tup(x.process)) for x in rs]  # noqa: E731
        self.assertEqual(key(self.dry.results), key(self.first.results))

    def test_second_restore_changes_no_file(self):
        written = {x.id for x in self.first.results if x.state_written}
        self.assertEqual(written, {self.ids[k] for k in ("web", "killed", "shimkilled", "reused")})
        self.assertFalse([x.id for x in self.second.results if x.state_written])
        self.assertEqual(self.snap2[0], self.snap1[0], "the second restore changed the graph")
        self.assertEqual(self.snap2[1], self.snap1[1], "the second restore changed the state dir")
        s = by_id(self.second.results)
        self.assertEqual(s[self.ids["fifo"]].action, pb.ACTION_REATTACH)
        self.assertEqual(tup(s[self.ids["fifo"]].process), self.real["fifo"].tuple)
        self.assertEqual(s[self.ids["killed"]].action, pb.ACTION_SKIP_GC)   # in garbage.json now
        self.assertEqual(s[self.ids["killed"]].status, pb.STATUS_STOPPED)

    # -- after the restore: the exit FIFO and liveness ---------------------------------------

    def test_daemon_never_opens_the_exit_fifo_and_the_exit_code_stays_readable(self):
        real = self.real["fifo"]
        fifos = {self.fifo_of(k) for k in ("web", "fifo", "paused")}
        self.assertFalse(fifos & set(self.fds_after_first), "restored holds an exit FIFO open")
        # The engine's supervisor would hold the read end: so do we, then the container dies.
        fd = os.open(real.exit_fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            self.assertFalse(fifos & set(rh.fd_targets(self.d.proc.pid)))
            real.kill("KILL")
            self.assertTrue(real.wait_exit(), "container or shim did not exit")
            # The shim's 4-byte exit code is still there: nobody else read it.
            self.assertEqual(rh.read_fifo_int(fd), 137)
            self.assertFalse(fifos & set(rh.fd_targets(self.d.proc.pid)))
        finally:
            os.close(fd)

    def test_liveness_after_restore_watch_list_and_handle(self):
        real, cid = self.real["web"], self.ids["web"]
        w = Reader(self.stub.Watch(pb.WatchRequest(replay=True), timeout=60))
        self.addCleanup(w.close)
        # The replay starts with the finished summary: the stream is registered.
        first = w.until(lambda e: True, 10)
        self.assertIsNotNone(first)
        self.assertEqual(first.kind, K.KIND_RESTORE_FINISHED)
        before = self.stub.ListRestored(pb.ListRestoredRequest(prefix=cid), timeout=10).containers
        self.assertEqual([x.status for x in before], [pb.STATUS_RUNNING])
        t0 = time.time()
        real.kill("KILL")
        ev = w.until(lambda e: e.kind == K.KIND_STATUS_CHANGED and e.result.id == cid, 10)
        self.assertIsNotNone(ev, "no STATUS_CHANGED for the killed container within 10 s")
        self.assertLess(time.time() - t0, 10)
        self.assertEqual(ev.result.status, pb.STATUS_STOPPED)
        now = self.stub.ListRestored(pb.ListRestoredRequest(prefix=cid), timeout=10).containers
        self.assertEqual([x.status for x in now], [pb.STATUS_STOPPED])
        self.assertTrue(real.wait_exit())
        # HandleContainer re-reads the disk (container_state.json still says running: restored
        # writes nothing on an exit, the engine's supervisor does) and re-syncs: the shim has
        # exited after its container, so the runtime status fails -> R=STOPPED with S=RUNNING
        # -> forced stop, exit 255, handed to GC -> ACTION_SKIP_GC, and the decision the GC
        # thread applies afterwards is reported: policy "always" -> restart after iSulad's
        # first GC backoff (100 ms).
        h = self.stub.HandleContainer(pb.HandleContainerRequest(id=cid), timeout=30).result
        self.assertEqual(h.outcome, pb.OUTCOME_RESTORED, h.error)
        self.assertEqual(h.status, pb.STATUS_STOPPED)
        self.assertEqual(h.exit_code, 255)
        self.assertEqual(h.action, pb.ACTION_SKIP_GC)
        self.assertEqual(h.restart.policy, "always")
        self.assertTrue(h.restart.should_restart)
        self.assertEqual(h.restart.delay_ms, 100)
        self.assertIn(cid, rh.gc_entries(self.graph))
        doc = rh.read_json(rh.state_path(self.graph, "runc", cid))
        self.assertEqual((doc.get("ExitCode"), doc.get("Pid", 0), doc.get("Running", False)), (255, 0, False))


class HungRuntime(RuncCase):
    """--runtime runc=<script that hangs> --runtime-timeout 1: only that container fails."""

    @classmethod
    def setUpClass(cls):
        cls.setup_dirs("restored-hang-")
        cls.pidfile = os.path.join(cls.tmp, "hang.pids")
        cls.hang = os.path.join(cls.tmp, "hang-runtime.sh")
        with open(cls.hang, "w") as f:
            f.write("#!/bin/sh\necho $$ >> %s\nsleep 60 &\necho $! >> %s\nwait\n" % (cls.pidfile, cls.pidfile))
        os.chmod(cls.hang, 0o755)
        cls.addClassCleanup(cls.kill_hangers)
        g = rh.new_graph(cls.graph, cls.state, seed=43)
        # "runc" engine dir: its runtime binary hangs. "crun" engine dir: really runc.
        cls.hung = cls.start_real(g, "runc")
        cls.ok = cls.start_real(g, "crun")
        cls.c_hung = rh.add_container(g, "hung", "hung", cls.hung)
        cls.c_ok = rh.add_container(g, "ok", "ok", cls.ok, runtime="crun")
        cls.c_stopped = rh.add_container(g, "stopped", "stopped", status="stopped")
        g.write()
        cls.before = rh.read_bytes(rh.state_path(cls.graph, "runc", cls.hung.id))
        d = Daemon(cls.graph, cls.state, sock=os.path.join(cls.tmp, "restore.sock"),
                   args=["--runtime", "runc=" + cls.hang, "--runtime", "crun=" + rh.RUNC,
                         "--runtime-timeout", "1"])
        cls.addClassCleanup(d.stop, signal.SIGKILL)
        cls.d = d.start()
        t0 = time.time()
        cls.resp = d.stub().RestoreAll(pb.RestoreAllRequest(), timeout=60)
        cls.elapsed = time.time() - t0

    @classmethod
    def hang_pids(cls):
        try:
            with open(cls.pidfile) as f:
                return [int(x) for x in f.read().split()]
        except OSError:
            return []

    @classmethod
    def kill_hangers(cls):
        for p in cls.hang_pids():
            st = rh.proc_stat(p)
            if st and st[0] not in ("Z", "X"):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            rh.reap(p)

    def test_hung_runtime_fails_only_its_container_and_is_killed(self):
        res = by_id(self.resp.results)
        self.assertLess(self.elapsed, 8, "RestoreAll took %.1fs with a 1 s runtime timeout" % self.elapsed)
        h = res[self.hung.id]
        self.assertEqual(h.outcome, pb.OUTCOME_FAILED)
        self.assertEqual(h.stage, pb.STAGE_SYNC)
        self.assertEqual(h.reason, pb.REASON_RUNTIME_TIMEOUT)
        self.assertEqual(h.action, pb.ACTION_NONE)
        self.assertTrue(h.error)
        self.assertEqual(rh.read_bytes(rh.state_path(self.graph, "runc", self.hung.id)), self.before,
                         "a container whose sync failed was rewritten")
        self.assertNotIn(self.hung.id, rh.gc_entries(self.graph))
        # The others restore: the crun one (real runc) is running and re-attached.
        o = res[self.ok.id]
        self.assertEqual((o.outcome, o.status, o.action), (pb.OUTCOME_RESTORED, pb.STATUS_RUNNING,
                                                           pb.ACTION_REATTACH), o.error)
        self.assertEqual(tup(o.process), self.ok.tuple)
        self.assertEqual(o.exit_fifo, os.path.join(self.state, "crun", self.ok.id, "exit_fifo"))
        s = res[self.c_stopped.id]
        self.assertEqual((s.outcome, s.status), (pb.OUTCOME_RESTORED, pb.STATUS_STOPPED))
        self.assertEqual((self.resp.summary.total, self.resp.summary.failed), (3, 1))
        # The script and the sleep it started are gone (killed as a process group).
        pids = self.hang_pids()
        self.assertEqual(len(pids), 2, "the hanging runtime was run once: %s" % pids)
        for p in pids:
            st = rh.proc_stat(p)
            gone = False
            for _ in range(100):
                st = rh.proc_stat(p)
                if st is None or st[0] in ("Z", "X"):
                    gone = True
                    break
                time.sleep(0.05)
            rh.reap(p)
            self.assertTrue(gone, "process %d of the hung runtime is still running (%s)" % (p, st))
        # The containers themselves were never touched.
        self.assertTrue(rh.alive(self.hung.pid, self.hung.start_time))
        self.assertTrue(rh.alive(self.ok.pid, self.ok.start_time))
        # And the daemon (watching the re-attached crun container) still shuts down cleanly.
        self.assertEqual(self.d.stop(signal.SIGTERM), 0, self.d.output()[-3000:])


class HostReboot(RuncCase):
    """The containers ran, then the host rebooted: /var/run (the state dir) is empty."""

    @classmethod
    def setUpClass(cls):
        cls.setup_dirs("restored-reboot-")
        g = rh.new_graph(cls.graph, cls.state, seed=47)
        a, b = cls.start_real(g), cls.start_real(g)
        b.pause()
        cls.ca = rh.add_container(g, "running", "was-running", a, policy="always")
        cls.cb = rh.add_container(g, "paused", "was-paused", b, status="paused")
        cls.cs = rh.add_container(g, "stopped", "was-stopped", status="stopped", policy="no")
        g.write()
        cls.stopped_before = rh.read_bytes(rh.state_path(cls.graph, "runc", cls.cs.id))
        for c in (a, b):
            c.destroy()
            if rh.alive(c.pid, c.start_time):
                raise AssertionError("container %d survived" % c.pid)
        shutil.rmtree(os.path.join(cls.state, "runc"))
        cls.d = cls.start_daemon()
        cls.resp = cls.d.stub().RestoreAll(pb.RestoreAllRequest(), timeout=60)

    def test_every_formerly_running_container_is_stopped_and_handed_to_gc(self):
        res = by_id(self.resp.results)
        gc = rh.gc_entries(self.graph)
        for c, persisted in ((self.ca, pb.STATUS_RUNNING), (self.cb, pb.STATUS_PAUSED)):
            r = res[c.id]
            self.assertEqual(r.outcome, pb.OUTCOME_RESTORED, r.error)
            self.assertEqual(r.persisted_status, persisted)
            self.assertEqual(r.status, pb.STATUS_STOPPED)
            self.assertEqual(r.action, pb.ACTION_SKIP_GC)
            self.assertEqual(r.exit_code, 255)
            self.assertEqual(tup(r.process), (0, 0, 0, 0))
            self.assertFalse(r.exit_fifo)
            self.assertIn(c.id, gc)
            doc = rh.read_json(rh.state_path(self.graph, "runc", c.id))
            self.assertEqual((doc.get("Running", False), doc.get("Paused", False), doc.get("Pid", 0)),
                             (False, False, 0))
        s = res[self.cs.id]
        self.assertEqual((s.status, s.action), (pb.STATUS_STOPPED, pb.ACTION_KEEP_STOPPED))
        self.assertNotIn(self.cs.id, gc)
        self.assertEqual(rh.read_bytes(rh.state_path(self.graph, "runc", self.cs.id)), self.stopped_before)
        self.assertEqual(self.resp.summary.running, 0)


class CrashDuringWriteBack(unittest.TestCase):
    """SIGKILL while ~1,300 container_state.json files are being rewritten: each is the old or
    the new document, never torn; garbage.json never lags a state file; the next restore copes."""

    COUNT = 2000
    RUNS = 5
    MAX_RUNS = 10

    @classmethod
    def setUpClass(cls):
        if SKIP:
            raise unittest.SkipTest(SKIP)
        cls.tmp = tempfile.mkdtemp(prefix="restored-crash-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.graph = os.path.join(cls.tmp, "graph")
        cls.state = os.path.join(cls.tmp, "state")
        # bench mix: 60% running, some paused/restarting/...; no recorded pid can be alive, and
        # after_reboot leaves no shim files: every live status is rewritten as stopped (255).
        g = rh.graphgen.Graph(cls.graph, cls.state, 5, after_reboot=True, full=False)
        g.mix_bench(cls.COUNT)
        g.write()
        cls.ids = [c.id for c in g.ctrs]
        cls.paths = {c.id: rh.state_path(cls.graph, "runc", c.id) for c in g.ctrs}
        cls.old = {i: rh.read_bytes(p) for i, p in cls.paths.items()}
        cls.gc_path = os.path.join(cls.graph, "garbage.json")
        cls.gc_old = rh.read_bytes(cls.gc_path) if os.path.exists(cls.gc_path) else None
        cls.gc_old_ids = set(rh.gc_entries(cls.graph))

        # Calibration: an uninterrupted restore gives the new documents and the timing.
        d = cls.daemon()
        stub = d.stub()
        sig0 = cls.gc_sig()
        t0 = time.monotonic()
        fut = stub.RestoreAll.future(pb.RestoreAllRequest(), timeout=120)
        t_gc = None
        while not fut.done():
            if t_gc is None and cls.gc_sig() != sig0:
                t_gc = time.monotonic() - t0
            time.sleep(0.0005)
        cls.t_end = time.monotonic() - t0
        cls.t_gc = t_gc if t_gc is not None else 0.0
        cls.calib = fut.result()
        d.stop(signal.SIGKILL)
        cls.new = {i: rh.read_bytes(p) for i, p in cls.paths.items()}
        cls.changed = {i for i in cls.ids if cls.new[i] != cls.old[i]}
        cls.gc_new_ids = set(rh.gc_entries(cls.graph))
        cls.new_norm = {i: cls.norm(cls.new[i]) for i in cls.changed}

    @classmethod
    def daemon(cls):
        d = Daemon(cls.graph, cls.state, sock=os.path.join(cls.tmp, "r%d.sock" % time.monotonic_ns()),
                   args=["--runtime", "runc=" + rh.RUNC])
        cls.addClassCleanup(d.stop, signal.SIGKILL)
        return d.start()

    @classmethod
    def gc_sig(cls):
        """Changes when garbage.json is replaced or rewritten in place."""
        try:
            st = os.stat(cls.gc_path)
            return st.st_ino, st.st_mtime_ns, st.st_size
        except FileNotFoundError:
            return None

    @staticmethod
    def norm(data):
        """The document as ordered pairs, minus FinishedAt (the clock of the restore)."""
        return [kv for kv in rh.read_json_bytes(data, ordered=True) if kv[0] != "FinishedAt"]

    @classmethod
    def reset(cls):
        for i in cls.changed:
            with open(cls.paths[i], "wb") as f:
                f.write(cls.old[i])
        if cls.gc_old is None:
            if os.path.exists(cls.gc_path):
                os.unlink(cls.gc_path)
        else:
            with open(cls.gc_path, "wb") as f:
                f.write(cls.gc_old)
        for p in cls.temp_files():
            os.unlink(p)

    @classmethod
    def temp_files(cls):
        out = []
        for dirpath, _, files in os.walk(cls.graph):
            out += [os.path.join(dirpath, f) for f in files if f.startswith(".tmp-")]
        return out

    def test_sigkill_during_write_back_leaves_every_state_file_whole(self):
        calib = self.calib
        self.assertEqual((calib.summary.total, calib.summary.failed), (self.COUNT, 0))
        self.assertGreater(len(self.changed), self.COUNT // 2, "most state files are rewritten")
        self.assertEqual(self.changed, {r.id for r in calib.results if r.state_written})
        self.assertTrue(self.gc_new_ids > self.gc_old_ids)
        write_phase = max(self.t_end - self.t_gc, 0.01)
        print("\ncalibration: %d files rewritten; garbage.json at %.0f ms, done at %.0f ms" %
              (len(self.changed), self.t_gc * 1000, self.t_end * 1000))
        fractions = [0.05, 0.3, 0.5, 0.7, 0.95]
        rng = random.Random(11)
        mixed_runs, runs = 0, 0
        while runs < self.MAX_RUNS and (runs < self.RUNS or not mixed_runs):
            frac = fractions[runs] if runs < len(fractions) else rng.uniform(0.05, 0.95)
            runs += 1
            n_new, n_tmp = self.crash_once(frac * write_phase)
            print("run %d: SIGKILL %.0f ms after garbage.json: %d of %d rewritten, %d temp files" %
                  (runs, frac * write_phase * 1000, n_new, len(self.changed), n_tmp))
            if 0 < n_new < len(self.changed):
                mixed_runs += 1
        self.assertGreater(mixed_runs, 0, "no SIGKILL landed in the middle of the write-back")

    def crash_once(self, delay):
        self.reset()
        d = self.daemon()
        stub = d.stub()
        sig0 = self.gc_sig()
        fut = stub.RestoreAll.future(pb.RestoreAllRequest(), timeout=120)
        deadline = time.monotonic() + 60
        # Trigger on garbage.json being replaced (written right before the state files).
        while self.gc_sig() == sig0 and not fut.done() and time.monotonic() < deadline:
            time.sleep(0.0002)
        time.sleep(delay)
        d.stop(signal.SIGKILL)
        try:
            fut.result()
        except grpc.RpcError:
            pass
        # garbage.json: whole, with every old entry.
        gc = rh.gc_entries(self.graph)
        self.assertTrue(set(gc) >= self.gc_old_ids)
        n_new = 0
        for i in self.ids:
            data = rh.read_bytes(self.paths[i])
            self.assertTrue(data, "%s: empty container_state.json" % i[:12])
            try:
                rh.read_json_bytes(data)
            except ValueError as e:
                self.fail("%s: torn container_state.json (%s): %r" % (i[:12], e, data[:200]))
            if data == self.old[i]:
                continue
            self.assertIn(i, self.changed, "%s: rewritten, but the calibration did not" % i[:12])
            self.assertEqual(self.norm(data), self.new_norm[i], "%s: neither old nor new" % i[:12])
            n_new += 1
            # A state file that says "stopped (255), to GC" never exists without its GC entry.
            if i in self.gc_new_ids:
                self.assertIn(i, gc, "%s: rewritten before garbage.json had it" % i[:12])
        tmp = self.temp_files()
        # Leftover temp files are acceptable only if the next restore still succeeds over them.
        d2 = self.daemon()
        resp = d2.stub().RestoreAll(pb.RestoreAllRequest(), timeout=120)
        d2.stop(signal.SIGKILL)
        self.assertEqual((resp.summary.total, resp.summary.failed), (self.COUNT, 0),
                         "the restore after the crash (temp files left: %s)" % tmp[:3])
        want = {r.id: (r.status, r.action) for r in self.calib.results}
        got = {r.id: (r.status, r.action) for r in resp.results}
        self.assertEqual(got, want, "the restore after the crash decided differently")
        for i in self.changed:
            self.assertEqual(self.norm(rh.read_bytes(self.paths[i])), self.new_norm[i],
                             "%s: not converged after the next restore" % i[:12])
        self.assertTrue(set(rh.gc_entries(self.graph)) >= self.gc_new_ids)
        return n_new, len(tmp)


if __name__ == "__main__":
    unittest.main()
