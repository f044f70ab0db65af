"""Shared plumbing for restored's integration tests.

Everything here is real: the daemon binary from the build tree on a real unix socket in a
temporary directory, graphs written to disk by tests/tools/graphgen.py or by the test itself,
and python grpcio (Debian's, /usr/bin/python3) as the client, with stubs generated from
api/ at test time into the build tree (nothing generated is committed).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

SOURCE_DIR = os.environ.get("SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
BIN = os.path.join(BUILD_DIR, "bin")
RESTORED = os.path.join(BIN, "restored")
RESTORECTL = os.path.join(BIN, "restorectl")
GRAPHGEN = os.path.join(SOURCE_DIR, "tests", "tools", "graphgen.py")

_GEN = os.path.join(BUILD_DIR, "pygen")


def _generate_stubs():
    marker = os.path.join(_GEN, "isula", "restore", "v1", "restore_pb2_grpc.py")
    proto = os.path.join(SOURCE_DIR, "api", "isula", "restore", "v1", "restore.proto")
    if os.path.exists(marker) and os.path.getmtime(marker) >= os.path.getmtime(proto):
        return
    os.makedirs(_GEN, exist_ok=True)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I" + os.path.join(SOURCE_DIR, "api"),
                    "--python_out=" + _GEN, "--grpc_python_out=" + _GEN,
                    "isula/restore/v1/restore.proto"], check=True)


_generate_stubs()
sys.path.insert(0, _GEN)

import grpc  # noqa: E402
from isula.restore.v1 import restore_pb2 as pb  # noqa: E402
from isula.restore.v1 import restore_pb2_grpc as pb_grpc  # noqa: E402

MAX_MSG = 256 << 20


def _empty_config():
    """An empty config file, so that a host's /etc/isulad/restored.json never leaks in."""
    path = os.path.join(BUILD_DIR, "restored-test-config.json")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write("{}\n")
    return path


class Daemon:
    """One restored process on a temporary socket."""

    def __init__(self, graph, state, sock=None, args=(), env=None, wrapper=()):
        self.graph, self.state = graph, state
        self.own_dir = None if sock else tempfile.mkdtemp(prefix="restored-sock-")
        self.sock = sock or os.path.join(self.own_dir, "restore.sock")
        self.args = list(args)
        self.env = env
        self.wrapper = list(wrapper)  # e.g. setpriv ... to run the daemon as another user
        self.proc = None
        self.log_path = self.sock + ".log"

    def start(self, wait=True):
        cmd = self.wrapper + [RESTORED, "--graph", self.graph, "--state", self.state, "--socket", self.sock,
               "--config", _empty_config()] + self.args
        self.log = open(self.log_path, "wb")
        env = dict(os.environ)
        env.update(self.env or {})
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        if wait:
            wait_for_socket(self.sock, self.proc)
        return self

    def channel(self):
        return grpc.insecure_channel("unix:" + self.sock, options=[
            ("grpc.max_receive_message_length", MAX_MSG)])

    def stub(self):
        return pb_grpc.RestoreStub(self.channel())

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=20):
        try:
            if not self.proc:
                return None
            if self.proc.poll() is not None:
                return self.proc.returncode
            self.proc.send_signal(sig)
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc and not self.log.closed:
                self.log.close()

    def cleanup(self):
        """Kills the daemon if it still runs and removes the socket dir it made (and its log)."""
        self.stop(signal.SIGKILL)
        if self.own_dir:
            shutil.rmtree(self.own_dir, ignore_errors=True)


def wait_for_socket(path, proc=None, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError("restored exited with %s before serving %s" % (proc.returncode, path))
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            try:
                s.connect(path)
                return
            except OSError:
                pass
        time.sleep(0.05)
    raise AssertionError("restored did not serve %s within %ss" % (path, timeout))


def graphgen(graph, state, mix, count=None, seed=1):
    """Writes a graph with tests/tools/graphgen.py; returns its manifest."""
    manifest = os.path.join(graph, "..", "manifest-%s.json" % mix)
    cmd = [sys.executable, GRAPHGEN, "--graph", graph, "--state", state, "--mix", mix,
           "--seed", str(seed), "--manifest", manifest]
    if count:
        cmd += ["--count", str(count)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(manifest) as f:
        return json.load(f)


def scratch_dir(prefix):
    """A temporary directory for a big generated graph: on tmpfs (/dev/shm) when there is room,
    since writing thousands of small files to a busy disk can take many seconds; else $TMPDIR."""
    shm = "/dev/shm"
    try:
        st = os.statvfs(shm)
        if os.access(shm, os.W_OK) and st.f_bavail * st.f_frsize > (2 << 30):
            return tempfile.mkdtemp(prefix=prefix, dir=shm)
    except OSError:
        pass
    return tempfile.mkdtemp(prefix=prefix)


class GeneratedGraph(unittest.TestCase):
    """A test class sharing one generated graph (MIX, COUNT, SEED) in a scratch dir."""
    MIX, COUNT, SEED = "bench", 1000, 1

    @classmethod
    def setUpClass(cls):
        cls.tmp = scratch_dir("restored-%s-" % cls.__name__.lower())
        cls.graph = os.path.join(cls.tmp, "graph")
        cls.state = os.path.join(cls.tmp, "state")
        os.makedirs(cls.graph)
        os.makedirs(cls.state)
        cls.manifest = graphgen(cls.graph, cls.state, cls.MIX, count=cls.COUNT, seed=cls.SEED)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)


def snapshot_tree(root):
    """{relative path: (kind, bytes or target)} for every entry below root, without
    following symlinks and without opening FIFOs: what 'byte-identical afterwards' compares."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("dir", st.st_mode)
            elif not os.path.isfile(p):
                out[rel] = ("special", st.st_mode)
            elif st.st_size > (8 << 20):
                out[rel] = ("big", st.st_size, st.st_mtime_ns)
            else:
                with open(p, "rb") as f:
                    out[rel] = ("file", f.read(), st.st_mode)
    return out


class TempDirs(unittest.TestCase):
    """A test case with a fresh graph and state dir, removed afterwards."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="restored-it-")
        self.graph = os.path.join(self.tmp, "graph")
        self.state = os.path.join(self.tmp, "state")
        os.makedirs(self.graph)
        os.makedirs(self.state)
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def daemon(self, **kw):
        d = Daemon(self.graph, self.state, **kw)
        self.daemons.append(d)
        return d

    def restorectl(self, d, *args, check=None):
        p = subprocess.run([RESTORECTL, "--socket", d.sock] + list(args),
                           capture_output=True, text=True, timeout=120)
        if check is not None:
            self.assertEqual(p.returncode, check, "restorectl %s: rc %d\nstdout:%s\nstderr:%s" %
                             (" ".join(args), p.returncode, p.stdout, p.stderr))
        return p
