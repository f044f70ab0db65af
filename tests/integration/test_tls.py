"""The TCP listener: TLS, mutual TLS and --listen-allow-write, with real certificates.

openssl makes, in a temporary directory, a CA, a server certificate for 127.0.0.1 and localhost,
a client certificate signed by the CA, and a second ("rogue") CA with its own client
certificate. The daemon listens on the unix socket and on 127.0.0.1:PORT (--listen does not
take port 0: a free port is picked and the daemon's log line "listening on ... port N" is
awaited). Clients are Debian's python grpcio with ssl_channel_credentials, and restorectl.

Checked (server/access.h, docs/operations.md "Remote agents"):
  TLS only         any TLS client reads; RestoreAll/HandleContainer refused (read-only);
                   plaintext and a client trusting another CA cannot connect
  + --tls-ca       a client with a certificate of that CA reads; without a certificate, or
                   with one from another CA, the handshake fails; writes still refused
  + allow-write    the client with a certificate may RestoreAll and HandleContainer
  start-up         --listen-allow-write without --tls-ca, --listen without a certificate and a
                   port already in use are refused
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from harness import RESTORECTL, Daemon, graphgen, grpc, pb, pb_grpc

M = "/isula.restore.v1.Restore/"
BUF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node_modules", ".bin", "buf")


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, timeout=60)


def make_pki(d):
    """CA, server (SAN 127.0.0.1, localhost), client, and a rogue CA with its own client."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "rogue-ca"):
        openssl("req", "-x509", *ec, "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "2",
                "-subj", "/CN=restored test " + ca, "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    with open(os.path.join(d, "server.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    with open(os.path.join(d, "client.ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    for name, ca, ext in (("server", "ca", "server.ext"), ("client", "ca", "client.ext"),
                          ("rogue-client", "rogue-ca", "client.ext")):
        openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name, cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                "-CAcreateserial", "-days", "2", "-sha256", "-extfile", ext, "-out", name + ".pem", cwd=d)
    openssl("verify", "-CAfile", "ca.pem", "server.pem", "client.pem", cwd=d)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TLS(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = tempfile.mkdtemp(prefix="restored-pki-")
        cls.addClassCleanup(shutil.rmtree, cls.pki, ignore_errors=True)
        make_pki(cls.pki)

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="restored-tls-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.graph = os.path.join(self.tmp, "graph")
        self.state = os.path.join(self.tmp, "state")
        self.manifest = graphgen(self.graph, self.state, "demo", seed=19)
        self.sock = os.path.join(self.tmp, "restore.sock")

    def p(self, name):
        return os.path.join(self.pki, name)

    def daemon(self, *args, ca=False, allow_write=False):
        """Starts restored with --listen on a free port; returns (daemon, port)."""
        for _ in range(5):
            port = free_port()
            a = ["--listen", "127.0.0.1:%d" % port, "--tls-cert", self.p("server.pem"),
                 "--tls-key", self.p("server.key")]
            if ca:
                a += ["--tls-ca", self.p("ca.pem")]
            if allow_write:
                a += ["--listen-allow-write"]
            d = Daemon(self.graph, self.state, sock=self.sock, args=a + list(args))
            self.addCleanup(d.stop, signal.SIGKILL)
            d.start(wait=False)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and d.proc.poll() is None:
                m = re.search(r"listening on 127\.0\.0\.1:%d \(TLS.*port (\d+)" % port, d.output())
                if m:
                    self.assertEqual(int(m.group(1)), port, "the log names the port")
                    return d, port
                time.sleep(0.05)
            if d.proc.poll() is not None and "address in use" in d.output():
                continue  # somebody took the port in between: pick another
            self.fail("restored did not listen on 127.0.0.1:%d:\n%s" % (port, d.output()))
        self.fail("no free port after 5 tries")

    def channel(self, port, trust="ca.pem", cert=None, host="127.0.0.1"):
        creds = grpc.ssl_channel_credentials(
            root_certificates=read(self.p(trust)),
            private_key=read(self.p(cert + ".key")) if cert else None,
            certificate_chain=read(self.p(cert + ".pem")) if cert else None)
        ch = grpc.secure_channel("%s:%d" % (host, port), creds)
        self.addCleanup(ch.close)
        return ch

    def code(self, fn, *args, **kw):
        try:
            fn(*args, timeout=10, **kw)
            return grpc.StatusCode.OK, ""
        except grpc.RpcError as e:
            return e.code(), e.details() or ""

    def health(self, ch, timeout=10):
        return ch.unary_unary("/grpc.health.v1.Health/Check")(b"", timeout=timeout)

    # ---- server TLS, no client certificates ----
    def test_tls_reads_work_writes_are_refused(self):
        d, port = self.daemon()
        self.assertIn("read-only", d.output())
        for host in ("127.0.0.1", "localhost"):
            stub = pb_grpc.RestoreStub(self.channel(port, host=host))
            resp = stub.ListRestored(pb.ListRestoredRequest(), timeout=10)
            self.assertEqual(resp.summary.generation, 0, "TLS read through %s" % host)
        ch = self.channel(port)
        self.assertEqual(self.health(ch), b"\x08\x02", "Health/Check over TLS: NOT_SERVING")
        stub = pb_grpc.RestoreStub(ch)
        code, details = self.code(stub.RestoreAll, pb.RestoreAllRequest(dry_run=True))
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn("may not call RestoreAll", details)
        self.assertIn("--listen-allow-write is not set", details)
        self.assertIn("ipv4:127.0.0.1", details, "the message names the TCP client")
        code, _ = self.code(stub.HandleContainer, pb.HandleContainerRequest(id="web", dry_run=True))
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)
        # A client certificate changes nothing when the server asks for none.
        stub = pb_grpc.RestoreStub(self.channel(port, cert="client"))
        self.assertEqual(self.code(stub.RestoreAll, pb.RestoreAllRequest(dry_run=True))[0],
                         grpc.StatusCode.PERMISSION_DENIED)
        # Not TLS, or TLS to a server the client does not trust: no connection at all.
        plain = grpc.insecure_channel("127.0.0.1:%d" % port)
        self.addCleanup(plain.close)
        self.assertEqual(self.code(pb_grpc.RestoreStub(plain).ListRestored, pb.ListRestoredRequest())[0],
                         grpc.StatusCode.UNAVAILABLE)
        rogue = pb_grpc.RestoreStub(self.channel(port, trust="rogue-ca.pem"))
        self.assertEqual(self.code(rogue.ListRestored, pb.ListRestoredRequest())[0], grpc.StatusCode.UNAVAILABLE)
        # The unix socket keeps its own rules: root may write there.
        resp = d.stub().RestoreAll(pb.RestoreAllRequest(dry_run=True), timeout=60)
        self.assertEqual(resp.summary.total, self.manifest["total"])
        # Nothing the TCP clients tried was carried out.
        self.assertEqual(resp.summary.generation, 1)

    # ---- mutual TLS, read-only ----
    def test_mutual_tls_requires_a_certificate_of_the_ca(self):
        d, port = self.daemon(ca=True)
        self.assertIn("client certificates required", d.output())
        stub = pb_grpc.RestoreStub(self.channel(port, cert="client"))
        self.assertEqual(stub.ListRestored(pb.ListRestoredRequest(), timeout=10).summary.generation, 0)
        code, details = self.code(stub.RestoreAll, pb.RestoreAllRequest(dry_run=True))
        self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED, "mutual TLS alone is still read-only")
        self.assertIn("--listen-allow-write is not set", details)
        for cert, why in ((None, "no client certificate"), ("rogue-client", "a certificate of another CA")):
            s = pb_grpc.RestoreStub(self.channel(port, cert=cert))
            code, details = self.code(s.ListRestored, pb.ListRestoredRequest())
            self.assertEqual(code, grpc.StatusCode.UNAVAILABLE, "%s is refused: %s" % (why, details))
            self.assertNotEqual(self.code(self.health, self.channel(port, cert=cert))[0], grpc.StatusCode.OK)

    # ---- mutual TLS with writes ----
    def test_listen_allow_write_lets_a_verified_client_restore(self):
        d, port = self.daemon(ca=True, allow_write=True)
        self.assertNotIn("read-only", d.output())
        stub = pb_grpc.RestoreStub(self.channel(port, cert="client"))
        resp = stub.RestoreAll(pb.RestoreAllRequest(), timeout=60)
        self.assertEqual(resp.summary.generation, 1)
        self.assertEqual(resp.summary.total, self.manifest["total"])
        self.assertFalse(resp.summary.dry_run)
        h = stub.HandleContainer(pb.HandleContainerRequest(id="web", dry_run=True), timeout=30)
        self.assertEqual(h.result.name, "web")
        self.assertEqual(self.health(self.channel(port, cert="client")), b"\x08\x01", "SERVING after it")
        s = pb_grpc.RestoreStub(self.channel(port))
        self.assertEqual(self.code(s.RestoreAll, pb.RestoreAllRequest())[0], grpc.StatusCode.UNAVAILABLE,
                         "no certificate, no connection, even with --listen-allow-write")
        # restorectl over TCP + mutual TLS.
        tls = ["--socket", "127.0.0.1:%d" % port, "--tls-ca", self.p("ca.pem"),
               "--tls-cert", self.p("client.pem"), "--tls-key", self.p("client.key")]
        p = subprocess.run([RESTORECTL] + tls + ["restore", "--dry-run"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 3, "restorectl restore over mTLS (some containers fail: 3)\n" + p.stderr)
        p = subprocess.run([RESTORECTL] + tls + ["health"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = subprocess.run([RESTORECTL] + tls[:4] + ["health"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, "restorectl without a client certificate cannot connect")
        # buf curl as in docs/operations.md: reflection and health over mutual TLS.
        self.assertTrue(os.access(BUF, os.X_OK), "%s missing: run tests/install-deps.sh" % BUF)
        buf = [BUF, "curl", "--protocol", "grpc", "--cacert", self.p("ca.pem"), "--cert", self.p("client.pem"),
               "--key", self.p("client.key")]
        env = dict(os.environ, BUF_CACHE_DIR=os.path.join(self.tmp, "buf-cache"))
        env.setdefault("HOME", self.tmp)
        p = subprocess.run(buf + ["https://127.0.0.1:%d" % port, "--list-services"], capture_output=True,
                           text=True, timeout=60, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("isula.restore.v1.Restore", p.stdout.split())
        p = subprocess.run(buf + ["https://localhost:%d/grpc.health.v1.Health/Check" % port], capture_output=True,
                           text=True, timeout=60, env=env)
        self.assertEqual((p.returncode, json.loads(p.stdout or "{}")), (0, {"status": "SERVING"}), p.stderr)

    # ---- start-up refusals ----
    def start_fails(self, *args):
        d = Daemon(self.graph, self.state, sock=self.sock, args=list(args))
        self.addCleanup(d.stop, signal.SIGKILL)
        d.start(wait=False)
        rc = d.proc.wait(timeout=20)
        d.log.close()
        return rc, d.output()

    def test_refused_configurations(self):
        cert = ["--tls-cert", self.p("server.pem"), "--tls-key", self.p("server.key")]
        rc, out = self.start_fails("--listen", "127.0.0.1:%d" % free_port(), "--listen-allow-write", *cert)
        self.assertEqual(rc, 2, out)
        self.assertIn("--listen-allow-write requires --tls-ca", out)
        rc, out = self.start_fails("--listen", "127.0.0.1:%d" % free_port())
        self.assertEqual(rc, 2, out)
        self.assertIn("--listen requires --tls-cert", out)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            rc, out = self.start_fails("--listen", "127.0.0.1:%d" % port, *cert)
        self.assertNotEqual(rc, 0, "a second listener on a port in use (no SO_REUSEPORT)")
        self.assertIn("cannot listen on 127.0.0.1:%d" % port, out)
        self.assertFalse(os.path.exists(self.sock), "a failed start leaves no socket behind")


if __name__ == "__main__":
    unittest.main()
