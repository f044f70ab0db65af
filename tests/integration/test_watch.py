"""Watch through python grpcio against the real daemon.

  - a client watching while RestoreAll runs sees RESTORE_STARTED, PROGRESS (stage, done/total),
    exactly one CONTAINER_RESULT per container directory and RESTORE_FINISHED with the summary,
    in that order, all of one generation;
  - replay=true after a restore gives the finished summary, then every result; replay while a
    restore runs never loses a result;
  - a client that stops reading is ended with RESOURCE_EXHAUSTED once its queue (65,536 events)
    is full, while a fast client on the same daemon receives every event of every restore, and
    the slow client's events are an exact prefix of the fast one's (dropped at the end, never in
    the middle);
  - at most 64 streams at once: the 65th gets RESOURCE_EXHAUSTED, a freed slot is reusable;
  - SIGTERM ends every open Watch stream (the client sees the end, not a hang), and the daemon
    exits 0.

Registration is never guessed with a sleep where it matters: a stream opened with replay=true
after a restore receives the replayed RESTORE_FINISHED first, which proves the server holds it.
"""
import os
import queue
import shutil
import signal
import threading
import time
import unittest

from google.protobuf import json_format

from harness import Daemon, GeneratedGraph, TempDirs, graphgen, grpc, pb, pb_grpc

K = pb.WatchEvent
STARTED, PROGRESS, RESULT, FINISHED = (K.KIND_RESTORE_STARTED, K.KIND_PROGRESS, K.KIND_CONTAINER_RESULT,
                                       K.KIND_RESTORE_FINISHED)
WATCH_QUEUE = 65536  # server/grpcsrv.c GS_DEFAULT_QUEUE: events queued per stream
MAX_STREAMS = 64     # server/watch.h WATCH_MAX_STREAMS


def kind_name(k):
    return K.Kind.Name(k)


class Reader:
    """Reads one Watch stream on a thread into a queue; remembers how it ended."""

    def __init__(self, stream):
        self.stream = stream
        self.q = queue.Queue()
        self.code = None
        self.details = None
        self.done = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            for ev in self.stream:
                self.q.put(ev)
            self.code = grpc.StatusCode.OK
        except grpc.RpcError as e:
            self.code, self.details = e.code(), e.details()
        finally:
            self.done.set()

    def next(self, timeout=30):
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no Watch event within %ss (stream ended: %s %s)" %
                                 (timeout, self.code, self.details))

    def until(self, pred, timeout=60):
        """Events up to and including the first one matching pred."""
        out, deadline = [], time.time() + timeout
        while True:
            ev = self.next(max(0.1, deadline - time.time()))
            out.append(ev)
            if pred(ev):
                return out

    def close(self):
        self.stream.cancel()
        self.t.join(10)


def replay_stream(stub, n_results, timeout=60):
    """Opens Watch(replay=true) after a restore; returns the reader once the replay (finished
    summary + n_results results) has been consumed, so the stream is known to be registered."""
    r = Reader(stub.Watch(pb.WatchRequest(replay=True), timeout=timeout))
    first = r.next()
    assert first.kind == FINISHED, kind_name(first.kind)
    for _ in range(n_results):
        ev = r.next()
        assert ev.kind == RESULT, kind_name(ev.kind)
    return r, first


class WatchOneRestore(TempDirs):
    def setUp(self):
        super().setUp()
        # demo: 21 container dirs, 2 of them broken.
        self.manifest = graphgen(self.graph, self.state, "demo", seed=21)
        self.dirs = sorted((c["runtime"], c["dir"]) for c in self.manifest["containers"])
        self.d = self.daemon().start()
        self.stub = self.d.stub()

    def test_events_of_a_restore_arrive_in_order_one_result_per_container_dir(self):
        # Generation 1 (dry run) only gives the watcher something to replay.
        dry = self.stub.RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=60)
        w, _ = replay_stream(self.stub, len(dry.results))
        self.addCleanup(w.close)
        resp = self.stub.RestoreAll(pb.RestoreAllRequest(), timeout=60)
        evs = w.until(lambda e: e.kind == FINISHED)
        gen = resp.summary.generation
        self.assertEqual(gen, 2)
        kinds = [e.kind for e in evs]
        self.assertEqual(kinds[0], STARTED, [kind_name(k) for k in kinds[:5]])
        self.assertEqual(kinds[-1], FINISHED)
        self.assertEqual(kinds.count(STARTED), 1)
        self.assertTrue(set(kinds[1:-1]) <= {PROGRESS, RESULT}, {kind_name(k) for k in kinds})
        self.assertTrue(all(e.generation == gen for e in evs), "every event names generation %d" % gen)

        started = evs[0].summary
        self.assertEqual(started.phase, pb.PHASE_RUNNING)
        self.assertEqual(started.total, len(self.dirs))
        self.assertFalse(started.dry_run)

        progress = [e for e in evs if e.kind == PROGRESS]
        self.assertTrue(progress, "no PROGRESS event")
        last = {}
        for e in progress:
            p = e.progress
            self.assertNotEqual(p.stage, pb.STAGE_UNSPECIFIED)
            self.assertGreater(p.total, 0)
            self.assertLessEqual(p.done, p.total)
            self.assertGreaterEqual(p.done, last.get(p.stage, 0), "stage progress went backwards")
            last[p.stage] = p.done
        self.assertIn(pb.STAGE_LOAD, last)
        self.assertEqual(last[pb.STAGE_LOAD], len(self.dirs), "load progress reaches the total")

        # summary.done never goes backwards and the results are counted as they arrive
        dones = [e.summary.done for e in evs]
        self.assertEqual(dones, sorted(dones))

        results = [e.result for e in evs if e.kind == RESULT]
        got = sorted((r.runtime, r.dir) for r in results)
        self.assertEqual(got, self.dirs, "exactly one CONTAINER_RESULT per container dir")
        final = {(r.runtime, r.dir): r for r in resp.results}
        for r in results:
            want = final[(r.runtime, r.dir)]
            self.assertEqual((r.id, r.outcome, r.stage, r.reason, r.status, r.action),
                             (want.id, want.outcome, want.stage, want.reason, want.status, want.action),
                             "the watched result of %s differs from RestoreAll's" % r.dir)

        finished = evs[-1].summary
        self.assertEqual(finished.phase, pb.PHASE_DONE)
        for f in ("generation", "total", "restored", "failed", "running", "stopped", "dry_run", "done"):
            self.assertEqual(getattr(finished, f), getattr(resp.summary, f), f)
        self.assertEqual(finished.failed, self.manifest["failed"])
        self.assertEqual(finished.restored, self.manifest["restored"])

    def test_replay_after_a_restore_gives_the_summary_then_every_result(self):
        resp = self.stub.RestoreAll(pb.RestoreAllRequest(), timeout=60)
        w = Reader(self.stub.Watch(pb.WatchRequest(replay=True), timeout=60))
        self.addCleanup(w.close)
        first = w.next()
        self.assertEqual(first.kind, FINISHED)
        self.assertEqual(first.generation, resp.summary.generation)
        self.assertEqual(json_format.MessageToDict(first.summary), json_format.MessageToDict(resp.summary))
        replayed = [w.next() for _ in resp.results]
        self.assertTrue(all(e.kind == RESULT for e in replayed))
        self.assertEqual([json_format.MessageToDict(e.result) for e in replayed],
                         [json_format.MessageToDict(r) for r in resp.results],
                         "the replay is every result, as RestoreAll returned them, in order")
        # Nothing more until something happens.
        with self.assertRaises(AssertionError):
            w.next(timeout=0.5)
        # A stream without replay gets nothing from the past.
        live = Reader(self.stub.Watch(pb.WatchRequest(), timeout=60))
        self.addCleanup(live.close)
        with self.assertRaises(AssertionError):
            live.next(timeout=0.5)

    def test_replay_before_any_restore_sends_nothing_then_live_events(self):
        w = Reader(self.stub.Watch(pb.WatchRequest(replay=True), timeout=60))
        self.addCleanup(w.close)
        with self.assertRaises(AssertionError):
            w.next(timeout=0.5)
        self.stub.RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=60)
        evs = w.until(lambda e: e.kind == FINISHED)
        self.assertEqual(evs[0].kind, STARTED)
        self.assertEqual(evs[0].generation, 1)
        self.assertEqual(sorted((e.result.runtime, e.result.dir) for e in evs if e.kind == RESULT), self.dirs)


class StreamLimits(TempDirs):
    def setUp(self):
        super().setUp()
        graphgen(self.graph, self.state, "demo", seed=22)
        self.d = self.daemon().start()
        self.stub = self.d.stub()
        self.n = len(self.stub.RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=60).results)

    def test_at_most_64_streams_the_65th_is_resource_exhausted(self):
        # Spread over channels, so that no per-connection stream limit gets in the way.
        channels = [self.d.channel() for _ in range(4)]
        for ch in channels:
            self.addCleanup(ch.close)
        stubs = [pb_grpc.RestoreStub(ch) for ch in channels]
        readers = []
        self.addCleanup(lambda: [r.close() for r in readers])
        for i in range(MAX_STREAMS):
            r, _ = replay_stream(stubs[i % 4], self.n)
            readers.append(r)
        extra = Reader(stubs[0].Watch(pb.WatchRequest(replay=True), timeout=30))
        self.assertTrue(extra.done.wait(10), "the 65th stream was neither served nor refused")
        self.assertEqual(extra.code, grpc.StatusCode.RESOURCE_EXHAUSTED, extra.details)
        self.assertIn("64", extra.details)
        self.assertTrue(extra.q.empty(), "the refused stream got events")
        # Every one of the 64 still works: one restore reaches all of them.
        self.stub.RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=60)
        for r in readers:
            evs = r.until(lambda e: e.kind == FINISHED and e.generation == 2, timeout=30)
            self.assertEqual(sum(e.kind == RESULT for e in evs), self.n)
        # A slot freed by a client that goes away can be used again.
        readers.pop().close()
        deadline, reused = time.time() + 10, None
        while time.time() < deadline and reused is None:
            cand = Reader(stubs[1].Watch(pb.WatchRequest(replay=True), timeout=30))
            try:
                ev = cand.next(timeout=2)
                self.assertEqual(ev.kind, FINISHED)
                reused = cand
            except AssertionError:
                self.assertEqual(cand.code, grpc.StatusCode.RESOURCE_EXHAUSTED, cand.details)
                time.sleep(0.1)
        self.assertIsNotNone(reused, "a cancelled stream's slot was never freed")
        readers.append(reused)


class WatchAndSigterm(TempDirs):
    def test_sigterm_ends_open_watch_streams_cleanly(self):
        graphgen(self.graph, self.state, "demo", seed=23)
        d = self.daemon().start()
        stub = d.stub()
        n = len(stub.RestoreAll(pb.RestoreAllRequest(), timeout=60).results)
        readers = [replay_stream(stub, n)[0] for _ in range(3)]
        # One more that never reads: it still holds its replay, unread.
        idle = stub.Watch(pb.WatchRequest(replay=True), timeout=60)
        self.addCleanup(idle.cancel)
        self.addCleanup(lambda: [r.close() for r in readers])
        time.sleep(0.2)
        d.proc.send_signal(signal.SIGTERM)
        for r in readers:
            self.assertTrue(r.done.wait(15), "a Watch stream did not end after SIGTERM")
            self.assertEqual(r.code, grpc.StatusCode.OK, "Watch ended with %s: %s" % (r.code, r.details))
        rc = d.proc.wait(30)
        d.log.close()
        self.assertEqual(rc, 0, d.output())
        self.assertFalse(os.path.lexists(d.sock))
        # The idle stream ends too (its buffered events first), instead of hanging.
        ends = Reader(idle)
        self.assertTrue(ends.done.wait(15), "an unread Watch stream hangs after the daemon exited")
        self.assertIn(ends.code, (grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED))


class SlowClient(GeneratedGraph):
    """10,000 containers; a slow client that never reads and a fast one on the same daemon."""

    COUNT = 10000

    SEED = 24

    def setUp(self):
        self.d = Daemon(self.graph, self.state).start()
        self.addCleanup(shutil.rmtree, os.path.dirname(self.d.sock), True)
        self.addCleanup(self.d.stop, signal.SIGKILL)
        self.stub = self.d.stub()

    def test_a_slow_client_is_ended_with_resource_exhausted_and_a_fast_one_gets_everything(self):
        stub = self.stub
        stub.RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=120)  # generation 1, to replay
        # Without BDP probing the slow client's transport buffers only ~64 KiB, so what it does
        # not read piles up in the server's queue for it.
        slow_ch = grpc.insecure_channel("unix:" + self.d.sock, options=[("grpc.http2.bdp_probe", 0)])
        self.addCleanup(slow_ch.close)
        slow = pb_grpc.RestoreStub(slow_ch).Watch(pb.WatchRequest(replay=True), timeout=300)
        self.addCleanup(slow.cancel)
        # One event read proves the stream is registered (the replay is queued at once, under
        # the hub lock); after that this client reads nothing until the end.
        slow_first = next(slow)
        fast_ch = self.d.channel()
        self.addCleanup(fast_ch.close)
        fast, _ = replay_stream(pb_grpc.RestoreStub(fast_ch), self.COUNT, timeout=300)
        self.addCleanup(fast.close)

        per_gen = {}
        fast_events = []
        sent = self.COUNT + 1  # the slow client's replay
        gen = 1
        while sent < WATCH_QUEUE + 8000:
            resp = stub.RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=120)
            gen = resp.summary.generation
            # Waiting for the fast reader keeps it from ever being far behind.
            evs = fast.until(lambda e, g=gen: e.kind == FINISHED and e.generation == g, timeout=120)
            fast_events += evs
            per_gen[gen] = evs
            sent += len(evs)
            # The service is not slowed down by the stuck client.
            t0 = time.time()
            stub.ListRestored(pb.ListRestoredRequest(page_size=1), timeout=10)
            self.assertLess(time.time() - t0, 5)
        self.assertGreaterEqual(len(per_gen), 5)

        for g, evs in per_gen.items():
            self.assertEqual(evs[0].kind, STARTED, "generation %d" % g)
            self.assertEqual(evs[-1].kind, FINISHED)
            self.assertTrue(all(e.generation == g for e in evs))
            dirs = [e.result.dir for e in evs if e.kind == RESULT]
            self.assertEqual(len(dirs), self.COUNT, "the fast client missed results of generation %d" % g)
            self.assertEqual(len(set(dirs)), self.COUNT)
        self.assertIsNone(fast.code, "the fast client's stream was ended: %s %s" % (fast.code, fast.details))

        # Now read the slow stream: a prefix of everything, then RESOURCE_EXHAUSTED.
        got = [slow_first]
        t0 = time.time()
        with self.assertRaises(grpc.RpcError) as cm:
            for ev in slow:
                got.append(ev)
                self.assertLess(time.time() - t0, 120, "the slow stream never ends")
        self.assertEqual(cm.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED, cm.exception.details())
        self.assertIn("too slow", cm.exception.details())
        self.assertLess(len(got), sent, "the slow client was sent everything: it was never dropped")
        # Its backlog was dropped, not drained: it ends having read far less than the queue held
        # (what was already in its socket buffers), instead of 65,536 stale events first.
        self.assertLess(len(got), WATCH_QUEUE, "the status waited behind the whole backlog")
        self.assertLess(time.time() - t0, 10, "the RESOURCE_EXHAUSTED status was not prompt")
        # The replay, then exactly the events the fast client saw, in the same order, cut at the end.
        self.assertEqual(got[0].kind, FINISHED)
        self.assertTrue(all(e.kind == RESULT for e in got[1:self.COUNT + 1]))
        live = got[self.COUNT + 1:]
        self.assertEqual([(e.kind, e.generation, e.result.dir) for e in live],
                         [(e.kind, e.generation, e.result.dir) for e in fast_events[:len(live)]])

        # The daemon is fine: a new watcher with replay catches up on the last restore.
        again, first = replay_stream(stub, self.COUNT)
        again.close()
        self.assertEqual(first.generation, gen)

    def test_replay_during_a_running_restore_loses_no_result(self):
        stub = self.stub
        done = {}

        def restore():
            done["resp"] = stub.RestoreAll(pb.RestoreAllRequest(), timeout=120)

        t = threading.Thread(target=restore, daemon=True)
        t.start()
        deadline = time.time() + 30
        while True:
            s = stub.ListRestored(pb.ListRestoredRequest(page_size=1), timeout=10).summary
            if s.phase == pb.PHASE_RUNNING and 0 < s.done < s.total // 2:
                break
            self.assertLess(time.time(), deadline, "never saw the restore half-way")
            time.sleep(0.002)
        w = Reader(stub.Watch(pb.WatchRequest(replay=True), timeout=120))
        self.addCleanup(w.close)
        evs = w.until(lambda e: e.kind == FINISHED, timeout=120)
        t.join(120)
        resp = done["resp"]
        self.assertEqual(evs[-1].generation, resp.summary.generation)
        self.assertEqual(evs[0].kind, STARTED, "the watcher joined after the restore had finished")
        self.assertEqual(evs[0].summary.phase, pb.PHASE_RUNNING)
        seen = {e.result.dir for e in evs if e.kind == RESULT}
        self.assertEqual(seen, {r.dir for r in resp.results}, "a result was lost between replay and live")


if __name__ == "__main__":
    unittest.main()
