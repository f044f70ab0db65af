"""restorectl for real: the CLI binary against the real daemon (CONTRACT.md §5).

  - `restore --dry-run`: the table (12-char ids, the contract's columns, one row per container
    dir, failures with their reason and error sentence), the summary, nothing written;
  - exit status: 3 when a container failed, 0 on a clean graph, 1 when the daemon is absent (the
    message says so), 2 on usage errors (before any connection is tried);
  - `-o json restore`: proto3 canonical JSON (lowerCamelCase, enums by name, 64-bit integers as
    strings) that parses strictly as a RestoreAllResponse equal to what the API returns;
  - `list`: -o json follows every page into one ListRestoredResponse (2,500 containers), --limit
    stops early, --status/--outcome/--runtime/--prefix select what the API selects;
  - `handle NAME` prints the decision; `handle nope` exits 1 with NOT_FOUND;
  - `watch -o json`: one JSON WatchEvent per line while a restore runs, exit 0 at --timeout;
  - `health`: NOT_SERVING (exit 1) before the first real restore (a dry run restores nothing),
    SERVING (exit 0) after;
  - the progress bar in a pseudo-terminal (script(1)), then the table.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import unittest

from google.protobuf import json_format

from harness import RESTORECTL, Daemon, GeneratedGraph, TempDirs, graphgen, pb, snapshot_tree

COLUMNS = ["ID", "NAME", "RUNTIME", "STATUS", "ACTION", "OUTCOME", "REASON"]


def word(enum_name):
    """STATUS_STOPPED -> stopped, REASON_CONFIG_CORRUPT -> config-corrupt (the table's words)."""
    return enum_name.split("_", 1)[1].lower().replace("_", "-")


def parse_table(out):
    """(header, rows, error lines by row id, trailing lines) of a restorectl table."""
    lines = out.splitlines()
    header = lines[0].split()
    rows, errors, rest = [], {}, []
    for line in lines[1:]:
        if line.startswith("total "):
            rest = lines[lines.index(line):]
            break
        if line.startswith(" "):
            errors[rows[-1][0]] = line.strip()
            continue
        rows.append(line.split())
    return header, rows, errors, rest


def grpc_list(stub, **kw):
    """Every container the API lists for these filters, following pages."""
    out, token = [], ""
    while True:
        page = stub.ListRestored(pb.ListRestoredRequest(page_token=token, page_size=1000, **kw), timeout=30)
        out += list(page.containers)
        token = page.next_page_token
        if not token:
            return out


class DemoGraph(TempDirs):
    def setUp(self):
        super().setUp()
        self.manifest = graphgen(self.graph, self.state, "demo", seed=31)
        self.d = self.daemon().start()
        self.stub = self.d.stub()

    def ctl(self, *args, check=None):
        return self.restorectl(self.d, *args, check=check)

    def test_restore_dry_run_prints_the_table_and_summary_and_writes_nothing(self):
        before = snapshot_tree(self.graph)
        p = self.ctl("restore", "--dry-run", check=3)
        self.assertEqual(snapshot_tree(self.graph), before, "a dry run wrote something")
        header, rows, errors, rest = parse_table(p.stdout)
        self.assertEqual(header, COLUMNS)
        by_id = {r[0]: r for r in rows}
        self.assertEqual(len(rows), len(self.manifest["containers"]), p.stdout)
        for c in self.manifest["containers"]:
            short = c["dir"][:12]
            self.assertIn(short, by_id, "no row for " + c["dir"])
            row = by_id[short]
            self.assertEqual(len(row), 7, row)
            self.assertRegex(row[0], r"^[0-9a-f]{12}$")
            self.assertEqual(row[2], c["runtime"])
            e = c["expect"]
            self.assertEqual(row[5], word(e["outcome"]), row)
            if e["outcome"] == "OUTCOME_FAILED":
                self.assertEqual(row[6], word(e["reason"]), row)
                self.assertEqual(row[4], "-")
                self.assertIn(short, errors, "a failed row has its error sentence under it")
                self.assertRegex(errors[short], r"^error \((load|verify|sync|register|handle)\): \S")
            else:
                self.assertEqual(row[6], "-")
                self.assertEqual(row[3], word(e["status"]), row)
                self.assertEqual(row[4], word(e["action"]), row)
                # The name column shows the name (truncated when long), never the id for a named one.
                if c["name"] != c["id"]:
                    self.assertEqual(row[1], c["name"].lstrip("/"))
        m = self.manifest
        self.assertRegex(rest[0], r"^total %d, restored %d, failed %d, running \d+, stopped \d+, duration "
                         % (len(m["containers"]), m["restored"], m["failed"]))
        self.assertIn("dry run", rest[0])
        self.assertTrue(rest[1].startswith("actions:"), rest)
        self.assertEqual(p.stderr, "", "no progress bar or noise when stderr is not a terminal")

    def test_json_restore_is_proto3_canonical_and_equals_the_api(self):
        p = self.ctl("-o", "json", "restore", check=3)
        obj = json.loads(p.stdout)
        self.assertEqual(set(obj), {"summary", "results"})
        s = obj["summary"]
        self.assertEqual(s["phase"], "PHASE_DONE")
        self.assertEqual(s["generation"], "1", "uint64 is a JSON string in proto3 JSON")
        self.assertIsInstance(s["durationUs"], str)
        self.assertEqual(s["failed"], self.manifest["failed"])

        def keys(v):
            if isinstance(v, dict):
                for k, x in v.items():
                    yield k
                    yield from keys(x)
            elif isinstance(v, list):
                for x in v:
                    yield from keys(x)
        bad = sorted({k for k in keys(obj) if "_" in k or not k[:1].islower()})
        self.assertEqual(bad, [], "keys that are not lowerCamelCase")
        for r in obj["results"]:
            self.assertIn(r["outcome"], ("OUTCOME_RESTORED", "OUTCOME_FAILED"))
            self.assertTrue(r["stage"].startswith("STAGE_"))
        self.assertTrue(any("persistedStatus" in r for r in obj["results"]))
        # Strict parse: an unknown or misspelt field name fails here.
        msg = json_format.Parse(p.stdout, pb.RestoreAllResponse())
        api = grpc_list(self.stub)
        self.assertEqual([json_format.MessageToDict(r) for r in msg.results],
                         [json_format.MessageToDict(r) for r in api])

    def test_exit_0_on_a_clean_graph(self):
        for c in self.manifest["containers"]:
            if c["expect"]["outcome"] == "OUTCOME_FAILED":
                shutil.rmtree(os.path.join(self.graph, "engines", c["runtime"], c["dir"]))
        p = self.ctl("restore", check=0)
        self.assertIn("failed 0", p.stdout)
        self.ctl("-o", "json", "restore", check=0)
        self.ctl("list", check=0)
        self.ctl("list", "--outcome", "failed", check=0)

    def test_exit_1_when_the_daemon_is_absent(self):
        tmp = tempfile.mkdtemp(prefix="restorectl-absent-")
        self.addCleanup(shutil.rmtree, tmp, True)
        missing = os.path.join(tmp, "restore.sock")
        for args in (["list"], ["restore"], ["health"], ["handle", "web"], ["watch"]):
            with self.subTest(args=args):
                p = subprocess.run([RESTORECTL, "--socket", missing, "--timeout", "5"] + args,
                                   capture_output=True, text=True, timeout=30)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn(missing, p.stderr)
                self.assertIn("is restored running", p.stderr)
                # Nothing on stdout, not even a table header (watch prints it with its first event).
                self.assertEqual(p.stdout, "")
        # A socket left behind by a dead daemon: the same.
        self.d.stop(signal.SIGKILL)
        self.assertTrue(os.path.lexists(self.d.sock))
        p = self.ctl("--timeout", "5", "list", check=1)
        self.assertIn(self.d.sock, p.stderr)
        # RESTORED_SOCKET names the default socket.
        p = subprocess.run([RESTORECTL, "--timeout", "5", "list"], capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, RESTORED_SOCKET=missing))
        self.assertEqual(p.returncode, 1)
        self.assertIn(missing, p.stderr)

    def test_exit_2_on_usage_errors_before_connecting(self):
        # A socket nobody serves: a command that tried to connect would exit 1, not 2.
        nowhere = os.path.join(self.tmp, "nowhere.sock")
        cases = [[], ["frobnicate"], ["list", "--bogus"], ["list", "--status", "bogus"],
                 ["list", "--outcome", "maybe"], ["list", "--limit", "0"], ["list", "extra"],
                 ["restore", "--workers", "many"], ["restore", "--runtime"], ["handle"],
                 ["handle", "a", "b"], ["-o", "yaml", "list"], ["--timeout", "soon", "list"],
                 ["health", "now"], ["watch", "--bogus"]]
        for args in cases:
            with self.subTest(args=args):
                p = subprocess.run([RESTORECTL, "--socket", nowhere] + args, capture_output=True, text=True,
                                   timeout=30)
                self.assertEqual(p.returncode, 2, "%s: %s" % (args, p.stderr))
                self.assertTrue(p.stderr.strip(), "a usage error says what is wrong")
                self.assertEqual(p.stdout, "")
        p = subprocess.run([RESTORECTL, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0)
        for cmd in ("restore", "list", "handle", "watch", "health"):
            self.assertIn(cmd, p.stdout)

    def test_handle_prints_the_decision_and_unknown_is_not_found(self):
        self.ctl("restore", check=3)
        want = {c["name"]: c for c in self.manifest["containers"]}
        for name in ("proxy", "batch-ok", "tmp-job"):
            c = want[name]
            p = self.ctl("handle", name, "--dry-run", check=0)
            fields = dict(re.split(r"\s+", line, maxsplit=1) for line in p.stdout.splitlines()
                          if line and not line.startswith("dry run"))
            self.assertEqual(fields["container"], "%s (%s)" % (c["id"], name))
            self.assertEqual(fields["decision"], word(c["expect"]["action"]), p.stdout)
            self.assertTrue(fields["status"].startswith(word(c["expect"]["status"])), p.stdout)
            self.assertIn("restart", fields)
            self.assertIn("dry run", p.stdout)
        # by id prefix, and as JSON
        c = want["proxy"]
        p = self.ctl("-o", "json", "handle", c["id"][:12], check=0)
        res = json_format.Parse(p.stdout, pb.HandleContainerResponse()).result
        self.assertEqual((res.id, res.name), (c["id"], "proxy"))
        self.assertEqual(res.action, pb.ACTION_RESTART)
        p = self.ctl("handle", "nope", check=1)
        self.assertIn("NOT_FOUND", p.stderr)
        self.assertIn("nope", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_health_is_not_serving_until_the_first_restore(self):
        p = self.ctl("health", check=1)
        self.assertEqual(p.stdout.strip(), "NOT_SERVING")
        self.ctl("restore", "--dry-run", check=3)
        p = self.ctl("health", check=1)  # a dry run restores nothing
        self.assertEqual(p.stdout.strip(), "NOT_SERVING")
        self.ctl("restore", check=3)
        p = self.ctl("health", check=0)
        self.assertEqual(p.stdout.strip(), "SERVING")
        p = self.ctl("-o", "json", "health", check=0)
        self.assertEqual(json.loads(p.stdout), {"status": "SERVING"})

    def test_watch_json_prints_one_object_per_line_while_a_restore_runs(self):
        first = self.stub.RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=60)
        n = len(first.results)
        proc = subprocess.Popen([RESTORECTL, "--socket", self.d.sock, "--timeout", "4", "-o", "json", "watch",
                                 "--replay"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        lines, got_first = [], threading.Event()

        def read():
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                got_first.set()
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        # The replayed summary comes first: after it, the stream is known to be registered.
        self.assertTrue(got_first.wait(20), "restorectl watch printed nothing")
        first_ev = json.loads(lines[0])
        self.assertEqual(first_ev["kind"], "KIND_RESTORE_FINISHED")
        self.assertEqual(first_ev["generation"], "1")
        resp = self.stub.RestoreAll(pb.RestoreAllRequest(), timeout=60)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            self.fail("restorectl watch --timeout 4 did not stop")
        reader.join(10)
        err = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        self.assertEqual(rc, 0, "reaching --timeout is success: " + err)
        events = []
        for line in lines:
            self.assertTrue(line.startswith("{") and line.rstrip().endswith("}"), line)
            events.append(json_format.Parse(line, pb.WatchEvent()))  # strict, one object per line
        replay, live = events[:1 + n], events[1 + n:]
        self.assertTrue(all(e.kind == pb.WatchEvent.KIND_CONTAINER_RESULT for e in replay[1:]))
        self.assertEqual(live[0].kind, pb.WatchEvent.KIND_RESTORE_STARTED)
        self.assertEqual(live[-1].kind, pb.WatchEvent.KIND_RESTORE_FINISHED)
        self.assertEqual(live[-1].generation, resp.summary.generation)
        self.assertEqual(sorted(e.result.dir for e in live if e.kind == pb.WatchEvent.KIND_CONTAINER_RESULT),
                         sorted(r.dir for r in resp.results))

    def test_list_filters_select_what_the_api_selects(self):
        # A second engine directory: move one clean container from runc to crun.
        moved = next(c for c in self.manifest["containers"] if c["name"] == "batch-ok")
        os.makedirs(os.path.join(self.graph, "engines", "crun"))
        os.rename(os.path.join(self.graph, "engines", "runc", moved["dir"]),
                  os.path.join(self.graph, "engines", "crun", moved["dir"]))
        self.ctl("restore", check=3)

        def ids(args, check):
            p = self.ctl("-o", "json", "list", *args, check=check)
            return [c.get("id") or c["dir"] for c in json.loads(p.stdout).get("containers", [])]

        def api(**kw):
            return [c.id or c.dir for c in grpc_list(self.stub, **kw)]

        everything = api()
        self.assertEqual(len(everything), len(self.manifest["containers"]))
        self.assertEqual(ids([], 3), everything)
        stopped = api(status=[pb.STATUS_STOPPED])
        self.assertTrue(0 < len(stopped) < len(everything))
        self.assertEqual(ids(["--status", "stopped"], 0), stopped)
        # Nothing runs (graphgen's processes never exist); only the failed old-alpine still
        # carries its on-disk "running", being never synced: a failed row, so exit 3.
        running = api(status=[pb.STATUS_RUNNING])
        self.assertEqual(ids(["--status", "running"], 3 if running else 0), running)
        both = api(status=[pb.STATUS_CREATED, pb.STATUS_STOPPED])
        self.assertGreater(len(both), len(stopped))
        self.assertEqual(ids(["--status", "created,stopped"], 0), both)
        self.assertEqual(ids(["--status", "created", "--status", "STATUS_STOPPED"], 0), both)
        failed = ids(["--outcome", "failed"], 3)
        self.assertEqual(len(failed), self.manifest["failed"])
        self.assertEqual(failed, api(outcome=pb.OUTCOME_FAILED))
        self.assertEqual(ids(["--outcome", "restored"], 0), api(outcome=pb.OUTCOME_RESTORED))
        self.assertEqual(ids(["--runtime", "crun"], 0), [moved["id"]])
        self.assertEqual(ids(["--runtime", "nope"], 0), [])
        web = next(c for c in self.manifest["containers"] if c["name"] == "web")
        self.assertIn(web["id"], ids(["--prefix", "we"], 0))
        self.assertEqual(ids(["--prefix", web["id"][:10]], 0), [web["id"]])
        self.assertEqual(ids(["--runtime", "crun", "--status", "stopped"], 0),
                         api(runtime="crun", status=[pb.STATUS_STOPPED]))
        p = self.ctl("list", "--runtime", "nope", check=0)
        self.assertEqual(p.stdout.splitlines()[0], "no containers match")


class BigGraph(GeneratedGraph):
    """2,500 containers: more than two server pages (the server caps a page at 1,000)."""

    COUNT, SEED = 2500, 32

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.graph, cls.state, sock=os.path.join(cls.tmp, "restore.sock"))
        try:
            cls.d.start()
            cls.stub = cls.d.stub()
            cls.first = cls.stub.RestoreAll(pb.RestoreAllRequest(), timeout=120)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.d.stop(signal.SIGKILL)
        super().tearDownClass()

    def ctl(self, *args, check=0):
        p = subprocess.run([RESTORECTL, "--socket", self.d.sock] + list(args), capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, check, "restorectl %s: %s" % (" ".join(args), p.stderr))
        return p

    def test_list_json_follows_every_page_into_one_object(self):
        p = self.ctl("-o", "json", "list")
        obj = json.loads(p.stdout)  # exactly one JSON value: a second would be "Extra data"
        ids = [c["id"] for c in obj["containers"]]
        self.assertEqual(len(ids), self.COUNT)
        self.assertEqual(len(set(ids)), self.COUNT)
        self.assertEqual(ids, [c.id for c in grpc_list(self.stub)])
        self.assertFalse(obj.get("nextPageToken"), "the last page has no token")
        self.assertEqual(obj["summary"]["total"], self.COUNT)
        json_format.Parse(p.stdout, pb.ListRestoredResponse())
        table = self.ctl("list").stdout.splitlines()
        self.assertEqual(table[0].split(), COLUMNS)
        self.assertEqual(len([ln for ln in table[1:] if re.match(r"^[0-9a-f]{12} ", ln)]), self.COUNT)

    def test_list_limit_stops_early(self):
        full = [c.id for c in grpc_list(self.stub)]
        for limit in (10, 1500):
            with self.subTest(limit=limit):
                obj = json.loads(self.ctl("-o", "json", "list", "--limit", str(limit)).stdout)
                self.assertEqual([c["id"] for c in obj["containers"]], full[:limit])
        rows = [ln for ln in self.ctl("list", "--limit", "10").stdout.splitlines()
                if re.match(r"^[0-9a-f]{12} ", ln)]
        self.assertEqual(len(rows), 10)

    def test_progress_bar_on_a_terminal_then_the_table(self):
        cmd = "%s --socket %s restore" % (RESTORECTL, self.d.sock)
        p = subprocess.run(["script", "-qfec", cmd, "/dev/null"], capture_output=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        out = p.stdout.decode(errors="replace")
        self.assertEqual(p.returncode, 0, out[-2000:])
        bars = [m for m in re.finditer(r"restoring \[([#-]{30})\] (\d+)/(\d+)", out)]
        self.assertTrue(bars, "no progress bar in the terminal output:\n" + out[:2000])
        for m in bars:
            self.assertEqual(int(m.group(3)), self.COUNT)
            done = int(m.group(2))
            self.assertLessEqual(done, self.COUNT)
            self.assertEqual(m.group(1).count("#"), done * 30 // self.COUNT, m.group(0))
        header = re.search(r"ID\s+NAME\s+RUNTIME\s+STATUS\s+ACTION\s+OUTCOME\s+REASON", out)
        self.assertIsNotNone(header, "no table after the bar")
        self.assertGreater(header.start(), bars[-1].end(), "the table comes after the bar")
        self.assertIn("\r\033[K", out[bars[-1].end():header.start()], "the bar is erased before the table")
        self.assertRegex(out, r"total %d, restored %d, failed 0" % (self.COUNT, self.COUNT))
        # Not a terminal: no bar at all.
        plain = self.ctl("restore")
        self.assertNotIn("restoring [", plain.stdout + plain.stderr)


if __name__ == "__main__":
    unittest.main()
