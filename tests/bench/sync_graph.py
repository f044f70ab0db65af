#!/usr/bin/python3
"""sync_graph.py - real running runc containers in an iSulad graph, held up until told to stop.

    sync_graph.py --graph DIR --state DIR --ready FILE [-n N] [--seed S] [--name PREFIX]
                  [--dead-graph DIR --dead-state DIR] [--add] [--build DIR]

Used by tests/bench/bench-sync.sh (N containers, plus a "dead" copy of the graph) and by
deploy/demo.sh (--add: one container added to the existing demo graph).

It makes itself a child subreaper (test-shim double-forks, so every shim becomes OUR child and is
reaped here), builds one `sleep infinity` bundle (build/bin/mkbundle.sh) and starts N containers
with build/bin/test-shim, each in <state>/runc/<id>/ with runc --root <state>/runc/<id>/runc,
exactly as tests/integration/runc_helpers.py does. Each container's config.v2.json,
hostconfig.json and container_state.json (tests/tools/graphgen.py) hold its REAL 4-tuple
(Pid, PPid = its shim, StartTime, PStartTime from /proc/<pid>/stat field 22).

  --dead-graph/--dead-state  also copy the graph to DIR, with an empty state root: the same
                             containers, as after a host reboot (no shim-pid: "shim dead")
  --add                      add to an existing graph (the demo's): the graph's image store must
                             already hold graphgen's busybox image for --seed (graphgen's default
                             seed is 1); no image is written

When everything runs it writes FILE (atomically): one line per container,
"<id> <runc --root> <shim pid> <container pid>", then waits. On SIGTERM, SIGINT or SIGHUP,
or when its parent dies, it kills and deletes every container (runc kill/delete with the
container's --root), kills and reaps the shims and exits 0. If starting fails, it tears down
what it started, prints why on stderr and exits 1 without writing FILE.
"""
import argparse
import os
import random
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", ".."))

stop = False


def on_signal(signo, frame):
    global stop
    stop = True


def reap_all():
    """Reaps every exited child (we are a subreaper: orphans of ours land here)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--graph", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--ready", required=True, help="written once every container runs")
    ap.add_argument("-n", "--count", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--name", default="sleeper", help="name prefix (one container: the name)")
    ap.add_argument("--policy", default="always")
    ap.add_argument("--dead-graph")
    ap.add_argument("--dead-state")
    ap.add_argument("--add", action="store_true", help="add to an existing graph")
    ap.add_argument("--build", help="build tree holding bin/test-shim (default: ./build)")
    ap.add_argument("--bundle", help="bundle dir (default: <state>/../bundle-sync)")
    args = ap.parse_args(argv)
    if args.count < 1:
        ap.error("-n must be at least 1")
    if bool(args.dead_graph) != bool(args.dead_state):
        ap.error("--dead-graph and --dead-state go together")

    # before anything else: a signal during start-up must still tear down
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    parent = os.getppid()

    if args.build:
        os.environ["BUILD_DIR"] = os.path.abspath(args.build)
    os.environ.setdefault("SOURCE_DIR", SOURCE_DIR)
    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "integration"))
    import runc_helpers as rh  # noqa: E402  (imports harness and graphgen)

    why = rh.skip_reason()
    if why:
        print("sync_graph.py: " + why, file=sys.stderr)
        return 1
    rh.check_tools()
    rh.become_subreaper()

    graph, state = os.path.abspath(args.graph), os.path.abspath(args.state)
    g = rh.new_graph(graph, state, args.seed)
    busybox = g.image("busybox")
    if args.add:
        imdir = os.path.join(graph, "storage", "overlay-images", busybox.id)
        if not os.path.isdir(imdir) or not os.path.isdir(os.path.join(graph, "engines")):
            print("sync_graph.py: %s has no graphgen busybox image for seed %d (%s)" %
                  (graph, args.seed, imdir), file=sys.stderr)
            return 1
    os.makedirs(state, 0o700, exist_ok=True)
    bundle = os.path.abspath(args.bundle or os.path.join(os.path.dirname(state), "bundle-sync"))
    # ids that cannot collide with a graphgen graph of the same seed
    idrng = random.Random("sync_graph %d %s" % (args.seed, os.urandom(8).hex()))

    started = []
    try:
        rh.make_bundle(bundle)
        for i in range(args.count):
            if stop or os.getppid() != parent:
                raise KeyboardInterrupt
            cid = "%064x" % idrng.getrandbits(256)
            c = rh.RealContainer(state, "runc", cid, bundle)
            started.append(c)          # before start: a half-started one is torn down too
            c.start()
            name = args.name if args.count == 1 else "%s-%03d" % (args.name, i)
            ctr = rh.add_container(g, "live-" + args.name, name, c, policy=args.policy)
            if args.add:
                ctr.write()            # only the container dir: the store is the demo's
        if not args.add:
            g.write()
        if args.dead_graph:
            shutil.copytree(graph, os.path.abspath(args.dead_graph), symlinks=True)
            os.makedirs(os.path.abspath(args.dead_state), 0o700, exist_ok=True)
        tmp = args.ready + ".tmp"
        with open(tmp, "w") as f:
            for c in started:
                f.write("%s %s %d %d\n" % (c.id, c.root, c.shim_pid, c.pid))
        os.rename(tmp, args.ready)
        while not stop and os.getppid() == parent:
            time.sleep(0.2)
            reap_all()
        return 0
    except KeyboardInterrupt:
        print("sync_graph.py: interrupted while starting containers", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001  report, tear down, exit 1
        # the first line says what failed (one line for demo.sh); the rest is detail
        lines = (str(e).strip() or type(e).__name__).splitlines()
        print("sync_graph.py: " + lines[0], file=sys.stderr)
        for line in lines[1:]:
            if line.strip():
                print("    " + line, file=sys.stderr)
        return 1
    finally:
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)      # finish the teardown whatever comes
        for c in reversed(started):
            if c.shim_pid is None and os.path.isdir(c.root):
                # test-shim failed half-way: runc may still hold a created container
                try:
                    c.runtime("kill", c.id, "KILL", check=False)
                    c.runtime("delete", "--force", c.id, check=False)
                except Exception as e:  # noqa: BLE001  cleanup must go on
                    print("cleanup of %s: %s" % (c.id[:12], e), file=sys.stderr)
            c.destroy()
        reap_all()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
