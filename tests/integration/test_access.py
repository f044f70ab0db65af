"""Who may call what: real users and groups, real peer credentials, real clients.

The test creates (and always removes) three unprivileged users and three groups with
useradd/groupadd, then runs clients as those users with `setpriv --reuid --regid --init-groups`
(so the kernel, not the test, supplies uid, gid and supplementary groups to SO_PEERCRED and
SO_PEERGROUPS):

  reader    primary group "other", supplementary group "read"   (--read-gid by NAME)
  admin     primary group "admin", supplementary group "read"   (--admin-gid by number)
  outsider  primary group "other"

The clients are Debian's python grpcio (raw bytes, encoded by the test) and restorectl.
Rules checked (server/access.h, docs/operations.md "Permissions"): readers may call
ListRestored, Watch and health but not RestoreAll or HandleContainer; admins and root may call
everything; anyone else is refused; each refusal is PERMISSION_DENIED with a message naming the
rule; a refused RestoreAll changes nothing. Gate 1 (the socket's mode 0660 and group) is checked
too, then opened (chmod 0666) to reach gate 2 for users outside the socket's group. The same
rules hold when the socket is passed by systemd (systemd-socket-activate).

Needs root (creating users); skipped otherwise.
"""
import grp
import json
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import unittest

from harness import RESTORECTL, Daemon, graphgen, grpc, pb, pb_grpc, wait_for_socket
from test_socket_activation import ActivatedDaemon

PREFIX = "rdit"  # restored integration test; followed by the creating pid
SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"
BUF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node_modules", ".bin", "buf")

CLIENT = r'''
import json, sys
import grpc
sock, method, hexreq, kind = sys.argv[1:5]
ch = grpc.insecure_channel("unix:" + sock)
try:
    if kind == "stream":
        it = ch.unary_stream(method)(bytes.fromhex(hexreq), timeout=20)
        resp = next(iter(it))
        it.cancel()
    else:
        resp = ch.unary_unary(method)(bytes.fromhex(hexreq), timeout=20)
    print(json.dumps({"code": "OK", "resp": resp.hex()}))
except grpc.RpcError as e:
    print(json.dumps({"code": e.code().name, "details": e.details() or ""}))
'''

M = "/isula.restore.v1.Restore/"
HEALTH = "/grpc.health.v1.Health/Check"


def _run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)


def _sweep_stale():
    """Removes users and groups left by an earlier run that was killed before its cleanup."""
    pat = re.compile(r"^%s(\d+)[a-z]+$" % PREFIX)
    for name in [p.pw_name for p in pwd.getpwall()]:
        m = pat.match(name)
        if m and not os.path.exists("/proc/" + m.group(1)):
            subprocess.run(["userdel", name], stderr=subprocess.DEVNULL)
    for name in [g.gr_name for g in grp.getgrall()]:
        m = pat.match(name)
        if m and not os.path.exists("/proc/" + m.group(1)):
            subprocess.run(["groupdel", name], stderr=subprocess.DEVNULL)


@unittest.skipUnless(os.geteuid() == 0, "creating users needs root")
class Access(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        _sweep_stale()
        base = "%s%d" % (PREFIX, os.getpid())
        cls.groups, cls.users = {}, {}
        for g in ("read", "admin", "other"):
            name = base + "g" + g[0]
            cls.addClassCleanup(subprocess.run, ["groupdel", name], stderr=subprocess.DEVNULL)
            _run("groupadd", name)
            cls.groups[g] = grp.getgrnam(name)
        for u, primary, extra in (("reader", "other", ["read"]), ("admin", "admin", ["read"]),
                                  ("outsider", "other", [])):
            name = base + u
            # Users go before their groups: class cleanups run last-in, first-out.
            cls.addClassCleanup(subprocess.run, ["userdel", name], stderr=subprocess.DEVNULL)
            cmd = ["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-g", cls.groups[primary].gr_name]
            if extra:
                cmd += ["-G", ",".join(cls.groups[e].gr_name for e in extra)]
            _run(*cmd, name)
            cls.users[u] = pwd.getpwnam(name)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="restored-access-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        os.chmod(self.tmp, 0o755)  # the users reach the socket and the client script through it
        self.graph = os.path.join(self.tmp, "graph")
        self.state = os.path.join(self.tmp, "state")
        self.manifest = graphgen(self.graph, self.state, "demo", seed=17)
        self.client = os.path.join(self.tmp, "client.py")
        with open(self.client, "w") as f:
            f.write(CLIENT)
        os.chmod(self.client, 0o644)
        self.sock = os.path.join(self.tmp, "restore.sock")

    # ---- helpers ----
    def daemon(self, *args):
        d = Daemon(self.graph, self.state, sock=self.sock, args=list(args))
        self.addCleanup(d.stop, signal.SIGKILL)
        return d.start()

    def as_user(self, user, *cmd, timeout=60):
        u = self.users[user]
        return subprocess.run([SETPRIV, "--reuid", str(u.pw_uid), "--regid", str(u.pw_gid), "--init-groups",
                               "--"] + list(cmd), capture_output=True, text=True, timeout=timeout)

    def call(self, user, method, req=b"", kind="unary"):
        """Calls method as user; returns {"code": "OK"|gRPC code name, "resp"|"details"}."""
        p = self.as_user(user, "/usr/bin/python3", "-I", self.client, self.sock, method, req.hex(), kind)
        self.assertEqual(p.returncode, 0, "client as %s crashed: %s" % (user, p.stderr))
        return json.loads(p.stdout)

    def assert_denied(self, r, method_name, *phrases):
        self.assertEqual(r["code"], "PERMISSION_DENIED", r)
        self.assertIn("may not call " + method_name, r["details"])
        for phrase in phrases:
            self.assertIn(phrase, r["details"])

    def gid(self, g):
        return self.groups[g].gr_gid

    def uid(self, u):
        return self.users[u].pw_uid

    def root_summary(self):
        ch = grpc.insecure_channel("unix:" + self.sock)
        return pb_grpc.RestoreStub(ch).ListRestored(pb.ListRestoredRequest(), timeout=10).summary

    def read_and_write_rules(self):
        """The per-call rules with --read-gid read and --admin-gid admin (any socket)."""
        gr, ga = self.gid("read"), self.gid("admin")
        # reader: every read RPC, through its supplementary group
        r = self.call("reader", M + "ListRestored", pb.ListRestoredRequest(page_size=2).SerializeToString())
        self.assertEqual(r["code"], "OK", r)
        self.assertEqual(pb.ListRestoredResponse.FromString(bytes.fromhex(r["resp"])).summary.generation, 0)
        self.assertEqual(self.call("reader", HEALTH)["code"], "OK")
        # reader: no writes, and the message names the rule
        r = self.call("reader", M + "RestoreAll", pb.RestoreAllRequest().SerializeToString())
        self.assert_denied(r, "RestoreAll", "uid %d" % self.uid("reader"),
                           "root or group %d (--admin-gid)" % ga, "--read-gid only allows reading")
        r = self.call("reader", M + "HandleContainer", pb.HandleContainerRequest(id="web").SerializeToString())
        self.assert_denied(r, "HandleContainer", "group %d (--admin-gid)" % ga)
        self.assertEqual(self.root_summary().generation, 0, "a refused RestoreAll restored nothing")
        # admin: writes, through its primary group
        r = self.call("admin", M + "RestoreAll", pb.RestoreAllRequest(dry_run=True).SerializeToString())
        self.assertEqual(r["code"], "OK", r)
        resp = pb.RestoreAllResponse.FromString(bytes.fromhex(r["resp"]))
        self.assertEqual(resp.summary.total, self.manifest["total"])
        self.assertTrue(resp.summary.dry_run)
        r = self.call("admin", M + "HandleContainer", pb.HandleContainerRequest(id="web", dry_run=True).SerializeToString())
        self.assertEqual(r["code"], "OK", r)
        self.assertEqual(pb.HandleContainerResponse.FromString(bytes.fromhex(r["resp"])).result.name, "web")
        # reader again, now that there is something to stream: Watch is a read
        r = self.call("reader", M + "Watch", pb.WatchRequest(replay=True).SerializeToString(), kind="stream")
        self.assertEqual(r["code"], "OK", r)
        ev = pb.WatchEvent.FromString(bytes.fromhex(r["resp"]))
        self.assertEqual(ev.kind, pb.WatchEvent.KIND_RESTORE_FINISHED)
        # outsider: nothing at all, not even reading
        r = self.call("outsider", M + "ListRestored")
        self.assert_denied(r, "ListRestored", "uid %d" % self.uid("outsider"),
                           "root, group %d (--read-gid) or group %d (--admin-gid)" % (gr, ga))
        self.assert_denied(self.call("outsider", HEALTH), "grpc.health.v1.Health/Check")
        self.assert_denied(self.call("outsider", M + "RestoreAll"), "RestoreAll")

    # ---- tests ----
    def test_own_socket_read_gid_and_admin_gid(self):
        self.daemon("--read-gid", self.groups["read"].gr_name, "--admin-gid", str(self.gid("admin")))
        st = os.stat(self.sock)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        self.assertEqual(st.st_gid, self.gid("read"), "the socket belongs to the --read-gid group")
        # Gate 1: the outsider is not in the socket's group, so cannot even connect.
        r = self.call("outsider", M + "ListRestored")
        self.assertEqual(r["code"], "UNAVAILABLE", r)
        self.assertIn("ermission denied", r["details"])
        # Open gate 1 to check gate 2 for everyone.
        os.chmod(self.sock, 0o666)
        self.read_and_write_rules()
        # restorectl, the real CLI, as the reader and the admin.
        p = self.as_user("reader", RESTORECTL, "--socket", self.sock, "restore", "--dry-run")
        self.assertEqual(p.returncode, 1, p)
        self.assertIn("may not call RestoreAll", p.stderr)
        p = self.as_user("reader", RESTORECTL, "--socket", self.sock, "-o", "json", "list")
        self.assertIn(p.returncode, (0, 3), p)
        self.assertEqual(len(json.loads(p.stdout)["containers"]), self.manifest["total"])
        # buf curl (reflection is a read) as the reader; the outsider is refused.
        self.assertTrue(os.access(BUF, os.X_OK), "%s missing: run tests/install-deps.sh" % BUF)
        cache = os.path.join(self.tmp, "buf-cache")
        os.makedirs(cache, mode=0o777)
        os.chmod(cache, 0o1777)
        buf = ["env", "HOME=" + cache, "BUF_CACHE_DIR=" + cache, BUF, "curl", "--protocol", "grpc", "--http2-prior-knowledge",
               "--unix-socket", self.sock]
        p = self.as_user("reader", *buf, "http://localhost", "--list-services")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("isula.restore.v1.Restore", p.stdout.split())
        p = self.as_user("outsider", *buf, "http://localhost", "--list-services")
        self.assertNotEqual(p.returncode, 0, "reflection is refused to the outsider")
        self.assertIn("permission_denied", p.stdout + p.stderr)
        p = self.as_user("admin", RESTORECTL, "--socket", self.sock, "restore")
        self.assertEqual(p.returncode, 3, "admin restores; some containers fail: exit 3\n%s" % p.stderr)
        self.assertEqual(self.root_summary().generation, 2, "the admin's restore ran (after the dry run)")
        self.assertFalse(self.root_summary().dry_run)

    def test_admin_gid_only(self):
        ga = self.gid("admin")
        self.daemon("--admin-gid", str(ga))
        self.assertEqual(os.stat(self.sock).st_gid, ga, "without --read-gid the socket gets --admin-gid's group")
        r = self.call("admin", M + "RestoreAll", pb.RestoreAllRequest(dry_run=True).SerializeToString())
        self.assertEqual(r["code"], "OK", r)
        self.assertEqual(self.call("reader", M + "ListRestored")["code"], "UNAVAILABLE", "gate 1")
        os.chmod(self.sock, 0o666)
        r = self.call("reader", M + "ListRestored")
        self.assert_denied(r, "ListRestored", "it needs root or group %d (--admin-gid)" % ga)

    def test_no_groups_root_only(self):
        self.daemon()
        st = os.stat(self.sock)
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_gid), (0o660, 0))
        os.chmod(self.sock, 0o666)
        r = self.call("admin", M + "ListRestored")
        self.assert_denied(r, "ListRestored", "it needs root (no --read-gid or --admin-gid is set)")
        r = self.call("admin", M + "RestoreAll")
        self.assert_denied(r, "RestoreAll", "it needs root (no --admin-gid is set)")
        self.assertEqual(self.root_summary().generation, 0)

    def test_socket_passed_by_systemd(self):
        d = ActivatedDaemon(self.tmp, self.graph, self.state, self.sock,
                            args=["--read-gid", str(self.gid("read")), "--admin-gid", str(self.gid("admin"))])
        self.addCleanup(d.stop, signal.SIGKILL)
        os.chmod(self.sock, 0o666)  # systemd's SocketMode/SocketGroup are gate 1; test gate 2 here
        wait_for_socket(self.sock)
        # The first caller (as the outsider) starts restored and is refused by it.
        r = self.call("outsider", M + "ListRestored")
        self.assert_denied(r, "ListRestored", "uid %d" % self.uid("outsider"))
        self.assertIn("serving the socket passed by systemd", d.output())
        self.read_and_write_rules()
        # root may do everything
        resp = pb_grpc.RestoreStub(grpc.insecure_channel("unix:" + self.sock)).RestoreAll(
            pb.RestoreAllRequest(), timeout=60)
        self.assertEqual(resp.summary.total, self.manifest["total"])
        self.assertEqual(d.stop(), 0, d.output())


if __name__ == "__main__":
    unittest.main()
