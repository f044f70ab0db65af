"""Real runc containers laid out as iSulad lays them out, for test_runc.py.

    <graph>/engines/<rt>/<id>/    config.v2.json, hostconfig.json, container_state.json
                                  (written by tests/tools/graphgen.py's Ctr, with the REAL
                                  4-tuple of the container's process)
    <state>/<rt>/<id>/            the shim workdir: shim-pid, pid, exit_fifo, and <rt>/, the
                                  runtime's --root (build/bin/test-shim, an isulad-shim stand-in)

The test process makes itself a child subreaper first: test-shim double-forks, so each shim
becomes OUR child and can be reaped by pid (this machine's pid 1 reaps nothing), and a container
whose shim was killed is reparented to us rather than lost. Only pids we know are ever reaped,
so subprocess's own children keep their exit statuses.
"""
import ctypes
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from harness import BIN, SOURCE_DIR

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "tools"))
import graphgen  # noqa: E402  (tests/tools/graphgen.py, used as a module)

TEST_SHIM = os.path.join(BIN, "test-shim")
MKBUNDLE = os.path.join(BIN, "mkbundle.sh")
RUNC = shutil.which("runc") or next(
    (p for p in ("/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc") if os.access(p, os.X_OK)),
    None)
PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def skip_reason():
    """Why real runc containers cannot run here at all (not root), or None."""
    if os.geteuid() != 0:
        return "needs root (runc creates namespaces and cgroups)"
    return None


def check_tools():
    """runc (a test dependency, see tests/install-deps.sh), test-shim and mkbundle.sh (built
    into build/bin) must be there: their absence is a failure, not a skip."""
    for what, path in (("runc", RUNC), ("test-shim", TEST_SHIM), ("mkbundle.sh", MKBUNDLE)):
        if not path or not os.path.exists(path):
            raise AssertionError("%s not found (%s)" % (what, path))


# ---------------------------------------------------------------------------------------------
# /proc


def proc_stat(pid):
    """(state, ppid, starttime) from /proc/<pid>/stat, fields parsed after the LAST ')', as
    iSulad does (comm may hold spaces or parentheses); None if there is no such process."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = data[data.rindex(")") + 2:].split()
    return rest[0], int(rest[1]), int(rest[19])     # field 3, field 4, field 22


def identity(pid):
    """The 4-tuple iSulad persists: (Pid, PPid, StartTime, PStartTime)."""
    _, ppid, start = proc_stat(pid)
    _, _, pstart = proc_stat(ppid)
    return pid, ppid, start, pstart


def alive(pid, start_time):
    """That exact process (pid AND start time) exists and is not a zombie."""
    st = proc_stat(pid)
    return st is not None and st[0] not in ("Z", "X") and st[2] == start_time


def reap(pid):
    """Reaps pid if it is our (subreaper) child and has exited; never blocks."""
    if pid <= 0:
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def wait_gone(pid, start_time, timeout=10.0):
    """Waits until (pid, start_time) is no longer a live process; True if it went."""
    deadline = time.time() + timeout
    while True:
        reap(pid)
        if not alive(pid, start_time):
            reap(pid)
            return True
        if time.time() >= deadline:
            return False
        time.sleep(0.02)


def fd_targets(pid):
    """Where every open fd of pid points (readlink of /proc/<pid>/fd/*)."""
    out = []
    d = "/proc/%d/fd" % pid
    for name in os.listdir(d):
        try:
            out.append(os.readlink(os.path.join(d, name)))
        except OSError:
            pass
    return out


# ---------------------------------------------------------------------------------------------
# Containers


class RealContainer:
    """One runc container started by test-shim in <state>/<rt>/<id>."""

    def __init__(self, state_root, rt, cid, bundle, runtime_bin=None):
        self.rt, self.id, self.bundle = rt, cid, bundle
        self.runtime_bin = runtime_bin or RUNC
        self.workdir = os.path.join(state_root, rt, cid)
        self.root = os.path.join(self.workdir, rt)          # iSulad: <workdir>/<runtime>
        self.exit_fifo = os.path.join(self.workdir, "exit_fifo")
        self.shim_pid = self.shim_start = self.pid = None
        self.tuple = None

    def start(self):
        p = subprocess.run([TEST_SHIM, "--state", self.workdir, "--bundle", self.bundle,
                            "--runtime", self.runtime_bin, "--id", self.id],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            log = ""
            try:
                with open(os.path.join(self.workdir, "shim.log")) as f:
                    log = f.read()[-2000:]
            except OSError:
                pass
            raise AssertionError("test-shim failed (%d): %s\nshim.log: %s" % (p.returncode, p.stderr, log))
        with open(os.path.join(self.workdir, "shim-pid")) as f:
            self.shim_pid = int(f.read().strip())
        with open(os.path.join(self.workdir, "pid")) as f:
            self.pid = int(f.read().strip())
        self.shim_start = proc_stat(self.shim_pid)[2]
        self.tuple = identity(self.pid)
        if self.tuple[1] != self.shim_pid:
            raise AssertionError("container %d's parent is %d, not its shim %d" %
                                 (self.pid, self.tuple[1], self.shim_pid))
        if int(p.stdout.strip()) != self.pid:
            raise AssertionError("test-shim printed %r, pid file says %d" % (p.stdout, self.pid))
        return self

    @property
    def start_time(self):
        return self.tuple[2]

    def runtime(self, *args, check=True):
        p = subprocess.run([self.runtime_bin, "--root", self.root] + list(args),
                           capture_output=True, text=True, timeout=30)
        if check and p.returncode != 0:
            raise AssertionError("runc %s: %s" % (" ".join(args), p.stderr))
        return p

    def state(self):
        p = self.runtime("state", self.id, check=False)
        return json.loads(p.stdout)["status"] if p.returncode == 0 else None

    def pause(self):
        self.runtime("pause", self.id)
        if self.state() != "paused":
            raise AssertionError("runc pause did not pause " + self.id)

    def kill(self, sig="KILL"):
        self.runtime("kill", self.id, sig)

    def wait_exit(self, timeout=10.0):
        """Waits for the container's init and then its shim to exit (the shim writes the exit
        FIFO and exits once its container is gone)."""
        ok = wait_gone(self.pid, self.start_time, timeout)
        return wait_gone(self.shim_pid, self.shim_start, timeout) and ok

    def kill_shim(self):
        os.kill(self.shim_pid, signal.SIGKILL)
        if not wait_gone(self.shim_pid, self.shim_start, 10):
            raise AssertionError("shim %d survived SIGKILL" % self.shim_pid)

    def destroy(self):
        """Best effort, never raises: the container, its shim and every zombie of ours gone."""
        if self.shim_pid is None:
            return
        try:
            if os.path.isdir(self.root):
                self.runtime("resume", self.id, check=False)     # a frozen task ignores SIGKILL (v1)
                self.runtime("kill", self.id, "KILL", check=False)
                wait_gone(self.pid, self.start_time, 5)
                self.runtime("delete", "--force", self.id, check=False)
            elif alive(self.pid, self.start_time):
                os.kill(self.pid, signal.SIGKILL)
            if alive(self.shim_pid, self.shim_start):
                os.kill(self.shim_pid, signal.SIGKILL)
            wait_gone(self.shim_pid, self.shim_start, 5)
            wait_gone(self.pid, self.start_time, 5)
        except Exception as e:  # noqa: BLE001  cleanup must go on
            print("cleanup of %s: %s" % (self.id[:12], e), file=sys.stderr)


def make_bundle(path):
    subprocess.run(["sh", MKBUNDLE, path], check=True, stdout=subprocess.DEVNULL, timeout=30)
    return path


def new_graph(graph, state, seed):
    """A graphgen Graph that writes no fake shim state (we start real shims)."""
    return graphgen.Graph(graph, state, seed, after_reboot=True, full=False)


def add_container(g, case, name, real=None, tuple_=None, status="running", policy="no",
                  runtime="runc", cid=None, healthcheck=None, health_state=None, unknown=None):
    """Adds a graphgen Ctr whose container_state.json holds the given 4-tuple (the real one of
    `real` by default). `unknown` = [(after_key, key, value)]: keys iSulad does not know, placed
    after after_key so their position is checked too."""
    c = graphgen.Ctr(g, case, runtime=runtime, status=status, name=g.unique_name(name),
                     image=g.image("busybox"), image_ref="busybox:latest", policy=policy,
                     id=cid or (real.id if real else None))
    tup = tuple_ or (real.tuple if real else None)
    if tup:
        c.pid, c.ppid, c.start_time, c.p_start_time = tup
    if healthcheck:
        def override(doc):
            doc["CommonConfig"]["Config"]["Healthcheck"] = healthcheck
            return doc
        c.config_override = override
    if health_state is not None:
        c.extra_state["Health"] = health_state
    if unknown:
        base = c.state_doc()
        out = {}
        for k, v in base.items():
            out[k] = v
            for after, uk, uv in unknown:
                if after == k:
                    out[uk] = uv
        for after, uk, uv in unknown:
            out.setdefault(uk, uv)
        c.state_override = out
    g.add(c)
    return c


def state_path(graph, rt, cid):
    return os.path.join(graph, "engines", rt, cid, "container_state.json")


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def read_json_bytes(data, ordered=False):
    """Parses JSON; ordered=True gives every object as a list of (key, value) pairs."""
    if ordered:
        return json.loads(data, object_pairs_hook=list)
    return json.loads(data)


def read_json(path, ordered=False):
    with open(path, "rb") as f:
        return read_json_bytes(f.read(), ordered)


def gc_entries(graph):
    """{id: entry} of <graph>/garbage.json; {} if there is none."""
    p = os.path.join(graph, "garbage.json")
    if not os.path.exists(p):
        return {}
    return {e["id"]: e for e in read_json(p).get("GcContainers") or []}


def read_fifo_int(fd, timeout=10.0):
    """Reads the shim's 4-byte native int from a non-blocking FIFO fd."""
    deadline, buf = time.time() + timeout, b""
    while len(buf) < 4:
        try:
            chunk = os.read(fd, 4 - len(buf))
        except OSError as e:
            if e.errno != errno.EAGAIN:
                raise
            chunk = None
        if chunk:
            buf += chunk
        elif time.time() >= deadline:
            break
        else:
            time.sleep(0.02)
    return int.from_bytes(buf, sys.byteorder, signed=True) if len(buf) == 4 else None
