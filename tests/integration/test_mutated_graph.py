"""Hostile bytes: a graph whose files are mutated at random (seeded, so reproducible).

Each container directory gets one mutation of one of its JSON files: truncated at a random
byte, a byte flipped, a run of NULs spliced in, a value replaced by a wrong JSON type, a number
blown past its C type, a key's case changed, deep nesting, or the file swapped for a FIFO,
a directory or a symlink. Whatever happens, every directory gets exactly one result, a failed
one names a reason and a sentence, no file of a failed container changes, and the daemon keeps
serving (under ASan and UBSan in the second build of tests/run.sh).
"""
import json
import os
import random
import unittest

from harness import GeneratedGraph, pb, snapshot_tree

FILES = ("config.v2.json", "hostconfig.json", "container_state.json", "network_settings.json")


def mutate(path, rnd):
    """Applies one random mutation to the JSON file at path; returns its name."""
    with open(path, "rb") as f:
        data = f.read()
    kind = rnd.choice(["truncate", "flip", "nuls", "wrong-type", "huge-number", "key-case",
                       "deep", "fifo", "directory", "symlink", "empty"])
    if kind in ("fifo", "directory", "symlink"):
        os.unlink(path)
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "directory":
            os.mkdir(path)
        else:
            os.symlink("/etc/hostname", path)
        return kind
    if kind == "truncate":
        data = data[:rnd.randrange(0, max(1, len(data)))]
    elif kind == "flip":
        i = rnd.randrange(len(data))
        data = data[:i] + bytes([data[i] ^ (1 << rnd.randrange(8))]) + data[i + 1:]
    elif kind == "nuls":
        i = rnd.randrange(len(data))
        data = data[:i] + b"\0" * rnd.randrange(1, 64) + data[i:]
    elif kind == "empty":
        data = b""
    elif kind == "deep":
        data = b"[" * 5000 + b"]" * 5000
    else:
        doc = json.loads(data)
        keys = _paths(doc)
        if not keys:
            return "none"
        parent, key = rnd.choice(keys)
        if kind == "wrong-type":
            parent[key] = rnd.choice([[], {}, "12", 12, True, None, 1.5])
        elif kind == "huge-number":
            parent[key] = rnd.choice([10 ** 20, -(10 ** 20), 2 ** 64, -1, 1e300])
        else:
            parent[key.swapcase() if isinstance(key, str) else key] = parent.pop(key)
        data = json.dumps(doc).encode()
    with open(path, "wb") as f:
        f.write(data)
    return kind


def _paths(doc, out=None, depth=0):
    out = [] if out is None else out
    if isinstance(doc, dict) and depth < 4:
        for k, v in list(doc.items()):
            out.append((doc, k))
            _paths(v, out, depth + 1)
    return out


class MutatedGraph(GeneratedGraph):
    MIX, COUNT, SEED = "bench", 400, 99

    def test_every_mutation_gets_a_result_and_the_daemon_keeps_serving(self):
        rnd = random.Random(20261204)
        engines = os.path.join(self.graph, "engines")
        mutated = {}
        for rt in sorted(os.listdir(engines)):
            for d in sorted(os.listdir(os.path.join(engines, rt))):
                name = rnd.choice(FILES)
                path = os.path.join(engines, rt, d, name)
                if os.path.exists(path):
                    mutated[(rt, d)] = "%s:%s" % (name, mutate(path, rnd))
        self.assertGreater(len(mutated), 300)
        before = snapshot_tree(self.graph)

        from harness import Daemon
        d = Daemon(self.graph, self.state)
        self.addCleanup(d.cleanup)
        d.start()
        stub = d.stub()
        for dry in (True, False, False):
            resp = stub.RestoreAll(pb.RestoreAllRequest(dry_run=dry), timeout=300)
            self.assertEqual(resp.summary.total, self.COUNT)
            self.assertEqual(len(resp.results), self.COUNT)
            self.assertEqual(len({(r.runtime, r.dir) for r in resp.results}), self.COUNT)
            for r in resp.results:
                what = mutated.get((r.runtime, r.dir), "unmutated")
                self.assertIn(r.outcome, (pb.OUTCOME_RESTORED, pb.OUTCOME_FAILED), what)
                if r.outcome == pb.OUTCOME_FAILED:
                    self.assertNotEqual(r.reason, pb.REASON_UNSPECIFIED, what)
                    self.assertNotEqual(r.reason, pb.REASON_INTERNAL, "%s: %s" % (what, r.error))
                    self.assertTrue(r.error, what)
                    self.assertEqual(r.action, pb.ACTION_NONE, what)
        failed = [r for r in resp.results if r.outcome == pb.OUTCOME_FAILED]
        self.assertGreater(len(failed), 50, "the mutations should break many containers")
        after = snapshot_tree(self.graph)
        for r in failed:
            prefix = os.path.join("engines", r.runtime, r.dir)
            for p, v in before.items():
                if p == prefix or p.startswith(prefix + "/"):
                    self.assertEqual(after.get(p), v, "%s of a failed container changed" % p)
        # Still serving, and still stops cleanly.
        self.assertEqual(stub.ListRestored(pb.ListRestoredRequest(page_size=1), timeout=10).summary.total,
                         self.COUNT)
        self.assertEqual(d.stop(), 0, d.output()[-2000:])
        self.assertNotIn("runtime error", d.output())
        self.assertNotIn("AddressSanitizer", d.output())


if __name__ == "__main__":
    unittest.main()
