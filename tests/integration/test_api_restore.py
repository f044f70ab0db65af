"""RestoreAll / ListRestored / HandleContainer through python grpcio against the real daemon.

The graph holds one container for every load and register failure (corrupt, truncated, empty,
NUL-filled, 100 MB, deeply nested, FIFO, symlinked dir, duplicate names and ids, bad ids,
missing image, ...) beside normal ones; tests/tools/graphgen.py writes it and a manifest of
what each container must produce.
"""
import concurrent.futures
import os
import unittest

from google.protobuf import json_format

from harness import TempDirs, graphgen, grpc, pb, snapshot_tree


def key(r):
    return (r.runtime, r.dir)


class RestoreAllBrokenGraph(TempDirs):
    def setUp(self):
        super().setUp()
        self.manifest = graphgen(self.graph, self.state, "all", seed=7)
        self.d = self.daemon().start()
        self.stub = self.d.stub()

    def expected(self):
        return {(c["runtime"], c["dir"]): c for c in self.manifest["containers"]}

    def assert_matches_manifest(self, results):
        want = self.expected()
        got = {key(r): r for r in results}
        self.assertEqual(sorted(got), sorted(want), "one result per container dir")
        for k, c in want.items():
            r = json_format.MessageToDict(got[k], preserving_proto_field_name=False)
            for field, value in c["expect"].items():
                if field == "warning":
                    # Restored from the config.v2.json "State" fallback: the result says why.
                    self.assertEqual(bool(got[k].error), value, "%s: warning sentence" % c["case"])
                    continue
                self.assertEqual(r.get(field, _default(field)), value,
                                 "%s/%s (%s): %s" % (k[0], k[1][:12], c["case"], field))
            if c["expect"].get("outcome") == "OUTCOME_FAILED":
                self.assertTrue(got[k].error, "failed %s has an error sentence" % c["case"])
                self.assertEqual(got[k].action, pb.ACTION_NONE)

    def test_every_container_gets_the_manifest_result_and_bad_ones_stay_byte_identical(self):
        before = snapshot_tree(self.graph)
        resp = self.stub.RestoreAll(pb.RestoreAllRequest(), timeout=120)
        self.assert_matches_manifest(resp.results)
        self.assertEqual(resp.summary.phase, pb.PHASE_DONE)
        self.assertEqual(resp.summary.total, len(self.manifest["containers"]))
        self.assertEqual(resp.summary.failed, self.manifest["failed"])
        self.assertEqual(resp.summary.restored, self.manifest["restored"])
        after = snapshot_tree(self.graph)
        failed = [c for c in self.manifest["containers"] if c["expect"]["outcome"] == "OUTCOME_FAILED"]
        self.assertGreaterEqual(len(failed), 15)
        for c in failed:
            prefix = os.path.join("engines", c["runtime"], c["dir"])
            mine = {p: v for p, v in before.items() if p == prefix or p.startswith(prefix + "/")}
            self.assertTrue(mine, "snapshot covers " + prefix)
            for p, v in mine.items():
                self.assertEqual(after.get(p), v, "%s (%s) changed on disk" % (p, c["case"]))
        # Still serving after all that.
        self.assertEqual(self.stub.ListRestored(pb.ListRestoredRequest(), timeout=10).summary.total,
                         resp.summary.total)

    def test_results_are_in_runtime_then_dir_order_whatever_the_worker_count(self):
        one = self.stub.RestoreAll(pb.RestoreAllRequest(dry_run=True, workers=1), timeout=120)
        many = self.stub.RestoreAll(pb.RestoreAllRequest(dry_run=True, workers=32), timeout=120)
        keys = [key(r) for r in one.results]
        self.assertEqual(keys, sorted(keys))
        self.assertEqual([json_format.MessageToDict(r) for r in one.results],
                         [json_format.MessageToDict(r) for r in many.results])

    def test_dry_run_writes_nothing_and_a_second_restore_changes_no_file(self):
        before = snapshot_tree(self.graph)
        dry = self.stub.RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=120)
        self.assertTrue(dry.summary.dry_run)
        self.assertFalse(any(r.state_written for r in dry.results))
        self.assertEqual(snapshot_tree(self.graph), before, "a dry run wrote something")
        first = self.stub.RestoreAll(pb.RestoreAllRequest(), timeout=120)
        self.assertTrue(any(r.state_written for r in first.results),
                        "the graph has running containers whose process is gone: sync writes")
        after_first = snapshot_tree(self.graph)
        second = self.stub.RestoreAll(pb.RestoreAllRequest(), timeout=120)
        self.assertFalse(any(r.state_written for r in second.results))
        self.assertEqual(snapshot_tree(self.graph), after_first, "a second restore changed a file")
        self.assertEqual(second.summary.generation, first.summary.generation + 1)

    def test_runtime_filter_limits_the_restore(self):
        resp = self.stub.RestoreAll(pb.RestoreAllRequest(dry_run=True, runtimes=["runc"]), timeout=60)
        self.assertTrue(resp.results)
        self.assertEqual({r.runtime for r in resp.results}, {"runc"})
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.RestoreAll(pb.RestoreAllRequest(runtimes=["../etc"]), timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_concurrent_restore_calls_join_one_restore(self):
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            futs = [ex.submit(self.stub.RestoreAll, pb.RestoreAllRequest(), timeout=120) for _ in range(4)]
            gens = {f.result().summary.generation for f in futs}
        # Calls that arrive while one runs join it; late ones start the next: never 4 passes.
        self.assertLess(len(gens), 4)


def _default(field):
    return {"exitCode": 0, "persistedStatus": "STATUS_UNKNOWN", "status": "STATUS_UNKNOWN",
            "action": "ACTION_NONE", "reason": "REASON_UNSPECIFIED"}.get(field)


class EmptyGraphs(TempDirs):
    def test_no_engines_dir_an_empty_one_and_an_empty_runtime_dir_restore_nothing(self):
        d = self.daemon().start()
        stub = d.stub()
        for step in ("missing", "empty", "empty runtime dir"):
            if step == "empty":
                os.makedirs(os.path.join(self.graph, "engines"))
            elif step == "empty runtime dir":
                os.makedirs(os.path.join(self.graph, "engines", "runc"))
            resp = stub.RestoreAll(pb.RestoreAllRequest(), timeout=30)
            self.assertEqual(resp.summary.total, 0, step)
            self.assertEqual(resp.summary.phase, pb.PHASE_DONE, step)
            self.assertEqual(len(resp.results), 0, step)
        self.assertEqual(d.stop(), 0, d.output())


class UnreadableEngineDir(TempDirs):
    def test_an_unreadable_engine_dir_is_named_and_the_rest_restores(self):
        # Root reads everything, so the daemon runs as nobody over a world-readable graph in
        # which one engine dir (kata-runtime) is private.
        manifest = graphgen(self.graph, self.state, "demo", seed=3)
        runc = sum(1 for c in manifest["containers"] if c["runtime"] == "runc")
        private = os.path.join(self.graph, "engines", "kata-runtime")
        os.makedirs(os.path.join(private, "0" * 64))
        for dirpath, dirs, files in os.walk(self.tmp):
            os.chmod(dirpath, 0o755)
            for f in files:
                p = os.path.join(dirpath, f)
                if os.path.isfile(p) and not os.path.islink(p):
                    os.chmod(p, 0o644)
        os.chmod(private, 0o700)
        sockdir = os.path.join(self.tmp, "sock")
        os.makedirs(sockdir)
        os.chmod(sockdir, 0o777)
        d = self.daemon(sock=os.path.join(sockdir, "restore.sock"),
                        wrapper=["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"])
        d.start()
        os.chmod(d.sock, 0o666)  # the test (root) connects either way; nobody owns it
        resp = d.stub().RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=60)
        self.assertIn("kata-runtime", resp.summary.error)
        self.assertIn("Permission denied", resp.summary.error)
        self.assertEqual(resp.summary.total, runc, "the readable engine dir still restores")
        p = self.restorectl(d, "restore", "--dry-run", check=3)
        self.assertIn("not restored: ", p.stdout)
        self.assertIn("kata-runtime", p.stdout)


class ListAndHandle(TempDirs):
    @classmethod
    def setUpClass(cls):
        pass

    def setUp(self):
        super().setUp()
        self.manifest = graphgen(self.graph, self.state, "demo", seed=3)
        self.d = self.daemon().start()
        self.stub = self.d.stub()
        self.all = self.stub.RestoreAll(pb.RestoreAllRequest(), timeout=60)

    def test_pages_follow_tokens_and_cover_everything_once(self):
        seen, token, pages = [], "", 0
        while True:
            page = self.stub.ListRestored(pb.ListRestoredRequest(page_size=4, page_token=token), timeout=10)
            seen += [key(r) for r in page.containers]
            pages += 1
            token = page.next_page_token
            if not token:
                break
        self.assertEqual(seen, [key(r) for r in self.all.results])
        self.assertEqual(pages, (len(seen) + 3) // 4)

    def test_filters(self):
        failed = self.stub.ListRestored(pb.ListRestoredRequest(outcome=pb.OUTCOME_FAILED), timeout=10)
        self.assertEqual(len(failed.containers), self.all.summary.failed)
        self.assertTrue(all(r.outcome == pb.OUTCOME_FAILED for r in failed.containers))
        stopped = self.stub.ListRestored(pb.ListRestoredRequest(status=[pb.STATUS_STOPPED]), timeout=10)
        self.assertTrue(stopped.containers)
        self.assertTrue(all(r.status == pb.STATUS_STOPPED for r in stopped.containers))
        some = self.all.results[0]
        by_prefix = self.stub.ListRestored(pb.ListRestoredRequest(prefix=some.id[:10]), timeout=10)
        self.assertIn(key(some), [key(r) for r in by_prefix.containers])
        none = self.stub.ListRestored(pb.ListRestoredRequest(runtime="no-such-runtime"), timeout=10)
        self.assertEqual(len(none.containers), 0)

    def test_a_token_replayed_with_other_filters_is_refused(self):
        page = self.stub.ListRestored(pb.ListRestoredRequest(page_size=2), timeout=10)
        self.assertTrue(page.next_page_token)
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.ListRestored(pb.ListRestoredRequest(page_size=2, runtime="runc",
                                                          page_token=page.next_page_token), timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_handle_by_id_prefix_and_name(self):
        target = next(r for r in self.all.results if r.outcome == pb.OUTCOME_RESTORED and r.name != r.id)
        for k in (target.id, target.id[:16], target.name, "/" + target.name.lstrip("/")):
            res = self.stub.HandleContainer(pb.HandleContainerRequest(id=k, dry_run=True), timeout=30)
            self.assertEqual(res.result.id, target.id, "lookup by %r" % k)

    def test_handle_unknown_and_ambiguous(self):
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.HandleContainer(pb.HandleContainerRequest(id="no-such-container"), timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)
        ids = [r.id for r in self.all.results if r.outcome == pb.OUTCOME_RESTORED]
        firsts = {}
        for i in ids:
            firsts.setdefault(i[0], []).append(i)
        shared = next((p for p, v in firsts.items() if len(v) > 1), None)
        self.assertIsNotNone(shared, "the demo graph has two ids sharing a first digit")
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.HandleContainer(pb.HandleContainerRequest(id=shared), timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("matches", cm.exception.details())
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.HandleContainer(pb.HandleContainerRequest(id=""), timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)

    def test_handle_of_a_container_that_failed_says_why_it_is_not_registered(self):
        failed = next(r for r in self.all.results if r.outcome == pb.OUTCOME_FAILED and r.id)
        with self.assertRaises(grpc.RpcError) as cm:
            self.stub.HandleContainer(pb.HandleContainerRequest(id=failed.id), timeout=10)
        self.assertEqual(cm.exception.code(), grpc.StatusCode.NOT_FOUND)
        self.assertIn("failed to restore at stage", cm.exception.details())
        self.assertIn(pb.Stage.Name(failed.stage).replace("STAGE_", "").lower(), cm.exception.details())


if __name__ == "__main__":
    unittest.main()
