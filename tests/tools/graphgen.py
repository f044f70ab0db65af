#!/usr/bin/python3
"""graphgen.py - write a faithful iSulad graph root and state root for restored's tests.

    graphgen.py --graph DIR --state DIR [--count N] [--seed S] [--mix demo|bench|broken|all]
                [--manifest FILE.json] [--after-reboot] [--full|--lean]
    graphgen.py --check RESULTS.json --manifest FILE.json

The second form compares `restorectl -o json restore` (or `list`) output with a manifest and
exits 1 on any difference (fields left out by proto3 JSON count as their defaults).

What it writes (research/isulad-restore.md §1.3-1.6, §2, §7.2):
  <graph>/engines/<runtime>/<64hex>/config.v2.json         beautified (yajl: 4 spaces, "{\n\n}")
                                    hostconfig.json         zero values omitted, schema key order
                                    container_state.json    "0001-01-01T00:00:00Z" = never
                                    network_settings.json   sometimes
                                    hostname, hosts, resolv.conf, mounts/shm/ (not --lean)
  <graph>/storage/overlay-images/<id>/images.json          compact one-line JSON
                                      manifest              docker v2 schema 2 manifest
                                      =<base64(sha256:id)>  image config; sha256(file) == id
  <graph>/storage/overlay-containers/<id>/container.json   rootfs record (not --lean)
  <graph>/garbage.json                                     when a container is in the GC list
  <state>/<runtime>/<id>/{shim-pid,pid,exit_fifo}           for running/paused containers

No container has a live process: every recorded Pid/PPid/shim pid is above PID_MAX_LIMIT
(4194304, the kernel's hard ceiling for pid_max), so it can never be alive. With --after-reboot
the per-container state dirs are not written at all (/var/run is tmpfs).

Mixes:
  demo    every persisted status and restart policy, an --rm container, a health-checked one,
          one in garbage.json, a legacy (pre-2.0.8) one, and two broken ones
  bench   a realistic, mostly running/stopped population of --count containers (default 10000;
          --lean by default: only the files restore reads, 10,000 containers in ~2.5 s)
  broken  one container for every load/verify/register failure, plus the tie winners and a
          few odd-but-valid ones that must still restore
  all     demo + broken + --count bench containers (default 100)

The manifest (--manifest) lists every entry of <graph>/engines/*/ with what restored is
expected to report for it, in proto3 JSON enum names so tests can compare directly:
  {"runtime", "dir", "id", "name", "image", "case",
   "expect": {"outcome", "stage", "reason"?, "persistedStatus"?, "status"?, "action"?,
              "exitCode"?}}
Match results by (runtime, dir). Expectations for restored containers assume what this tool
guarantees: no recorded process is alive, so the runtime reports every container stopped.

Deterministic: the same --seed and arguments give byte-identical trees (paths inside the
files name --graph, so compare trees generated at the same path). Python stdlib only.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import random
import stat
import sys

NEVER = "0001-01-01T00:00:00Z"
TZ = datetime.timezone(datetime.timedelta(hours=8))   # iSulad writes local time with offset
BASE_TIME = datetime.datetime(2024, 5, 1, 10, 0, 0, tzinfo=TZ)
PID_MAX_LIMIT = 4194304          # include/linux/threads.h: pid_max can never exceed this
FILE_MODE = 0o640
DIR_MODE = 0o750

# ---------------------------------------------------------------------------------------------
# Serialisation, as iSulad writes it


def _beautify(v, depth, out):
    """yajl_gen with yajl_gen_beautify: 4-space indent, ": " separator, "[" / "{" each followed
    by a newline, and an empty container printed as "{\\n\\n<indent>}"."""
    if isinstance(v, dict):
        out.append("{\n")
        ind = "    " * (depth + 1)
        first = True
        for k, x in v.items():
            if not first:
                out.append(",\n")
            first = False
            out.append(ind)
            out.append(_enc(k))
            out.append(": ")
            _beautify(x, depth + 1, out)
        out.append("\n")
        out.append("    " * depth)
        out.append("}")
    elif isinstance(v, list):
        out.append("[\n")
        ind = "    " * (depth + 1)
        first = True
        for x in v:
            if not first:
                out.append(",\n")
            first = False
            out.append(ind)
            _beautify(x, depth + 1, out)
        out.append("\n")
        out.append("    " * depth)
        out.append("]")
    elif isinstance(v, str):
        out.append(_enc(v))
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, int):
        out.append(str(v))
    elif v is None:
        out.append("null")
    else:
        raise TypeError(type(v))


_enc = json.encoder.encode_basestring   # yajl escapes the same set and leaves UTF-8 and '/' alone


def beautify(doc):
    out = []
    _beautify(doc, 0, out)
    out.append("\n")
    return "".join(out).encode()


def compact(doc):
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def isulad_time(t):
    """"2024-05-01T10:00:00.123456789+08:00": strftime + .%09d nanos + offset (§1.6)."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%09d" % t.nanos + "+08:00"


class Clock:
    """A timestamp with nanoseconds (datetime only has microseconds)."""

    def __init__(self, dt, nanos):
        self.dt, self.nanos = dt, nanos

    def strftime(self, fmt):
        return self.dt.strftime(fmt)

    def plus(self, seconds, nanos):
        return Clock(self.dt + datetime.timedelta(seconds=seconds), nanos)


def utc_time(t):
    """Image-store timestamps: UTC, nanoseconds, "Z"."""
    u = t.dt.astimezone(datetime.timezone.utc)
    return u.strftime("%Y-%m-%dT%H:%M:%S.") + "%09d" % t.nanos + "Z"


def write_file(path, data, mode=FILE_MODE):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# Images


PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

IMAGE_SPECS = [
    # key, stored names (already normalised, as iSulad keeps them), env, entrypoint, cmd,
    # workdir, exposed ports, stop signal, volumes, created
    dict(key="busybox", names=["busybox:latest"], env=[PATH_ENV], entrypoint=None, cmd=["sh"],
         workdir="", ports=[], stop=None, volumes=[], created="2024-04-03T18:27:18.482371569Z"),
    dict(key="nginx", names=["nginx:1.25"],
         env=[PATH_ENV, "NGINX_VERSION=1.25.4", "NJS_VERSION=0.8.3", "PKG_RELEASE=1~bookworm"],
         entrypoint=["/docker-entrypoint.sh"], cmd=["nginx", "-g", "daemon off;"], workdir="",
         ports=["80/tcp"], stop="SIGQUIT", volumes=[], created="2024-04-16T05:49:45.011274613Z"),
    dict(key="redis", names=["redis:7.2"],
         env=[PATH_ENV, "GOSU_VERSION=1.17", "REDIS_VERSION=7.2.4",
              "REDIS_DOWNLOAD_URL=http://download.redis.io/releases/redis-7.2.4.tar.gz",
              "REDIS_DOWNLOAD_SHA=8d104c26a154b29fd67d6568b4f375212212ad41e0c2caa3d66480e78dbd3b59"],
         entrypoint=["docker-entrypoint.sh"], cmd=["redis-server"], workdir="/data",
         ports=["6379/tcp"], stop=None, volumes=["/data"], created="2024-04-10T20:20:04.713185245Z"),
    dict(key="api", names=["registry.example.com/team/api:2.3.1"],
         env=[PATH_ENV, "LANG=C.UTF-8", "PYTHON_VERSION=3.11.9", "APP_HOME=/srv/api"],
         entrypoint=["/srv/api/entrypoint.sh"], cmd=["serve", "--port", "8080"], workdir="/srv/api",
         ports=["8080/tcp"], stop="SIGTERM", volumes=[], created="2024-04-22T09:13:51.334155208Z"),
]

# The ways a user types an image at `isula run` (CommonConfig.Image keeps it as typed, §1.5).
IMAGE_REFS = {
    "busybox": ["busybox", "busybox:latest", "docker.io/library/busybox:latest", "@short", "@full"],
    "nginx": ["nginx:1.25", "docker.io/library/nginx:1.25", "@short"],
    "redis": ["docker.io/library/redis:7.2", "redis:7.2", "@short"],
    "api": ["registry.example.com/team/api:2.3.1", "@short"],
}


class Image:
    def __init__(self, spec, rng):
        self.key = spec["key"]
        self.names = spec["names"]
        self.spec = spec
        layers = ["sha256:%064x" % rng.getrandbits(256) for _ in range(1 + rng.randrange(4))]
        cfg = {"architecture": "amd64", "config": {
            "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False,
            "AttachStdout": False, "AttachStderr": False, "Tty": False, "OpenStdin": False,
            "StdinOnce": False, "Env": spec["env"], "Cmd": spec["cmd"],
            "Image": "sha256:%064x" % rng.getrandbits(256),
            "Volumes": {v: {} for v in spec["volumes"]} or None, "WorkingDir": spec["workdir"],
            "Entrypoint": spec["entrypoint"], "OnBuild": None, "Labels": None}}
        if spec["ports"]:
            cfg["config"]["ExposedPorts"] = {p: {} for p in spec["ports"]}
        if spec["stop"]:
            cfg["config"]["StopSignal"] = spec["stop"]
        cfg.update({"created": spec["created"], "docker_version": "20.10.23",
                    "history": [{"created": spec["created"],
                                 "created_by": "/bin/sh -c #(nop) ADD file:%064x in / "
                                 % rng.getrandbits(256)}],
                    "os": "linux", "rootfs": {"type": "layers", "diff_ids": layers}})
        self.config = compact(cfg)
        self.id = hashlib.sha256(self.config).hexdigest()     # an image id IS its config digest
        manifest = {"schemaVersion": 2,
                    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                               "size": len(self.config), "digest": "sha256:" + self.id},
                    "layers": [{"mediaType":
                                "application/vnd.docker.image.rootfs.diff.tar.gzip",
                                "size": 700000 + rng.randrange(30000000),
                                "digest": "sha256:%064x" % rng.getrandbits(256)} for _ in layers]}
        self.manifest = json.dumps(manifest, indent=3).encode()
        self.digest = "sha256:" + hashlib.sha256(self.manifest).hexdigest()
        self.top_layer = "%064x" % rng.getrandbits(256)
        self.loaded = BASE_TIME - datetime.timedelta(days=7 + rng.randrange(20))

    def ref(self, style):
        if style == "@short":
            return self.id[:12]
        if style == "@full":
            return self.id
        return style

    def write(self, store):
        d = os.path.join(store, self.id)
        os.makedirs(d, DIR_MODE, exist_ok=True)
        key = "sha256:" + self.id
        record = {"id": self.id, "digest": self.digest, "names": self.names,
                  "layer": self.top_layer, "metadata": "{}",
                  "big-data-names": [key, "manifest"],
                  "big-data-sizes": {key: len(self.config), "manifest": len(self.manifest)},
                  "big-data-digests": {key: key, "manifest": self.digest},
                  "created": self.spec["created"],
                  "loaded": utc_time(Clock(self.loaded, 439778957))}
        write_file(os.path.join(d, "images.json"), compact(record), 0o600)
        write_file(os.path.join(d, "manifest"), self.manifest, 0o600)
        name = "=" + base64.b64encode(key.encode()).decode()
        write_file(os.path.join(d, name), self.config, 0o600)


# ---------------------------------------------------------------------------------------------
# Containers

STATUS_ENUM = {"created": "STATUS_CREATED", "starting": "STATUS_STARTING",
               "running": "STATUS_RUNNING", "paused": "STATUS_PAUSED",
               "restarting": "STATUS_RESTARTING", "stopped": "STATUS_STOPPED",
               "unknown": "STATUS_UNKNOWN"}
LIVE_STATUSES = ("running", "paused", "restarting", "starting", "unknown")

MASKED_PATHS = ["/proc/acpi", "/proc/config.gz", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                "/sys/firmware", "/sys/fs/selinux", "/sys/dev/block"]
READONLY_PATHS = ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                  "/proc/sysrq-trigger"]
WORDS = ["alpha", "bravo", "cedar", "delta", "ember", "falcon", "garnet", "harbor", "indigo",
         "juniper", "kestrel", "lumen", "maple", "nimbus", "onyx", "pepper", "quartz", "raven",
         "sierra", "tundra", "umber", "violet", "willow", "xenon", "yarrow", "zephyr"]


class Ctr:
    """One container directory to write. Fields mirror what restore reads."""

    def __init__(self, g, case, runtime="runc", status="stopped", name=None, image=None,
                 image_ref=None, policy="no", max_retry=0, restart_count=0, exit_code=0,
                 manual=False, auto_remove=False, auto_remove_bak=None, health=False,
                 network=False, in_gc=False, removal=False, id=None):
        self.g = g
        self.case = case
        self.runtime = runtime
        self.id = id or g.new_id()
        self.dir = self.id
        self.name = name if name is not None else self.id    # no --name: Name is the id (§1.5)
        self.image = image                   # Image or None (missing image)
        self.image_ref = image_ref or (image.ref(g.rng.choice(IMAGE_REFS[image.key]))
                                       if image else "alpine:3.19")
        if status == "removal":                  # crashed in the middle of `isula rm`
            status, removal = "stopped", True
        self.status = status
        self.policy = policy
        self.max_retry = max_retry
        self.restart_count = restart_count
        self.exit_code = exit_code
        self.manual = manual
        self.auto_remove = auto_remove
        self.auto_remove_bak = auto_remove if auto_remove_bak is None else auto_remove_bak
        self.health = health
        self.network = network
        self.in_gc = in_gc
        self.removal = removal
        rng = g.rng
        self.created = g.clock(-86400 * 30, -3600)
        self.started = self.created.plus(rng.randrange(1, 120), rng.randrange(10**9))
        self.finished = self.started.plus(rng.randrange(5, 86400 * 3), rng.randrange(10**9))
        self.pid = g.dead_pid()
        self.ppid = self.pid - rng.randrange(1, 40)          # isulad-shim forks the runtime
        self.start_time = rng.randrange(10**5, 10**8)         # /proc/<pid>/stat field 22, ticks
        self.p_start_time = self.start_time - rng.randrange(1, 50)
        self.expect = None                                    # computed by expect_restored()
        self.write_mode = None                                # how to break it (broken mix)
        self.state_override = None                            # raw dict for container_state.json
        self.config_override = None                           # callable(config_doc) -> doc
        self.extra_state = {}
        self.home = None                                      # real location if not engines/
        # an image that was deleted after the container was created still left its id here
        self.missing_image_id = "%064x" % rng.getrandbits(256)

    # -- documents -----------------------------------------------------------------------------

    def path(self):
        if self.home:
            return self.home
        return os.path.join(self.g.graph, "engines", self.runtime, self.dir)

    def config_doc(self):
        g, rng, d = self.g, self.g.rng, self.path()
        spec = self.image.spec if self.image else IMAGE_SPECS[0]
        entry = spec["entrypoint"] or []
        cmd = list(spec["cmd"])
        if self.image is None or self.image.key == "busybox":
            cmd = rng.choice([["sh"], ["sleep", "infinity"],
                              ["sh", "-c", "while true; do date; sleep 30; done"],
                              ["top", "-b"]])
        argv = entry + cmd
        env = list(spec["env"]) + ["HOSTNAME=" + self.id[:12]]
        env += rng.sample(["TZ=Asia/Shanghai", "LOG_LEVEL=info", "APP_ENV=production",
                           "GOMAXPROCS=2", "MALLOC_ARENA_MAX=2", "OTEL_SERVICE_NAME=" +
                           (self.name if self.name != self.id else "svc"),
                           "HTTP_PROXY=http://proxy.example.com:3128",
                           "NO_PROXY=localhost,127.0.0.1,.svc,.cluster.local"],
                          rng.randrange(2, 7))
        config = {"Hostname": self.id[:12]}
        if rng.random() < 0.3:
            config["Tty"] = True
            config["OpenStdin"] = True
        if spec["ports"]:
            config["ExposedPorts"] = {p: {} for p in spec["ports"]}
        config["Env"] = env
        config["Cmd"] = cmd
        config["Image"] = self.image_ref
        if spec["volumes"]:
            config["Volumes"] = {v: {} for v in spec["volumes"]}
        if spec["workdir"]:
            config["WorkingDir"] = spec["workdir"]
        if spec["entrypoint"]:
            config["Entrypoint"] = spec["entrypoint"]
        labels = {"org.opencontainers.image.vendor": "Example Corp",
                  "org.opencontainers.image.source": "https://git.example.com/platform/" +
                  rng.choice(WORDS),
                  "com.example.team": rng.choice(["payments", "search", "infra", "data"]),
                  "com.example.tier": rng.choice(["frontend", "backend", "batch"]),
                  "com.example.owner": rng.choice(WORDS) + "@example.com",
                  "com.example.revision": "%040x" % rng.getrandbits(160),
                  "org.opencontainers.image.title": self.image_ref,
                  "org.opencontainers.image.version": rng.choice(["1.4.2", "2.3.1", "2024.04"]),
                  "org.opencontainers.image.created": self.created.dt.astimezone(
                      datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "org.opencontainers.image.licenses": "Apache-2.0",
                  "com.example.oncall": "https://oncall.example.com/rotations/" +
                  rng.choice(WORDS)}
        config["Labels"] = labels
        config["Annotations"] = {
            "io.kubernetes.cri.container-type": "container",
            "log.console.driver": "json-file",
            "log.console.file": d + "/console.log",
            "log.console.filerotate": "7",
            "log.console.filesize": "30KB",
            "native.umask": "secure",
            "rootfs.mount": g.graph + "/mnt/rootfs",
        }
        if spec["stop"]:
            config["StopSignal"] = spec["stop"]
        if self.health:
            config["Healthcheck"] = {
                "Test": ["CMD-SHELL", rng.choice(["curl -fsS http://127.0.0.1/healthz || exit 1",
                                                  "redis-cli ping | grep -q PONG",
                                                  "test -e /tmp/ready"])],
                "Interval": 30 * 10**9, "Timeout": 5 * 10**9, "StartPeriod": 10 * 10**9,
                "Retries": 3}
        common = {"Path": argv[0]}
        if argv[1:]:
            common["Args"] = argv[1:]
        common["Config"] = config
        common["Created"] = isulad_time(self.created)
        common["Image"] = self.image_ref
        common["ImageType"] = "oci"
        common["HostnamePath"] = d + "/hostname"
        common["HostsPath"] = d + "/hosts"
        common["ResolvConfPath"] = d + "/resolv.conf"
        common["ShmPath"] = d + "/mounts/shm"
        common["LogPath"] = d + "/console.log"
        common["BaseFs"] = "%s/storage/overlay/%064x/merged" % (g.graph, rng.getrandbits(256))
        mounts = {}
        if spec["volumes"]:
            vol = "%064x" % rng.getrandbits(256)
            mounts["/data"] = {"Type": "volume", "Destination": "/data", "Driver": "local",
                               "Name": vol, "RW": True,
                               "Source": "%s/volumes/%s/_data" % (g.graph, vol)}
        if rng.random() < 0.5:
            mounts["/etc/app"] = {"Type": "bind", "Destination": "/etc/app",
                                  "Propagation": "rprivate", "Relabel": "z",
                                  "Source": "/srv/config/" + rng.choice(WORDS)}
        if mounts:
            common["MountPoints"] = mounts
        common["Name"] = self.name
        common["id"] = self.id
        doc = {"CommonConfig": common}
        if self.image:
            doc["Image"] = "sha256:" + self.image.id     # set only for resolved OCI images
        elif self.image_ref != "none":
            doc["Image"] = "sha256:" + self.missing_image_id
        doc["State"] = {}                                  # since v2.0.8 (§1.5)
        if self.config_override:
            doc = self.config_override(doc)
        return doc

    def hostconfig_doc(self):
        rng = self.g.rng
        h = {}
        if rng.random() < 0.5:
            h["Binds"] = ["/srv/config/%s:/etc/app:ro,z" % rng.choice(WORDS)]
        h["NetworkMode"] = rng.choice(["bridge", "bridge", "host"])
        h["IpcMode"] = "shareable"
        h["ShmSize"] = 67108864
        if self.auto_remove:
            h["AutoRemove"] = True
        if self.auto_remove_bak:
            h["AutoRemoveBak"] = True
        h["Tmpfs"] = {"/run": "rw,noexec,nosuid,size=65536k", "/tmp": "rw,nosuid,size=262144k"}
        h["Sysctls"] = {"net.core.somaxconn": "1024", "net.ipv4.tcp_keepalive_time": "600"}
        h["Runtime"] = self.runtime
        rp = {"Name": self.policy}
        if self.max_retry:
            rp["MaximumRetryCount"] = self.max_retry
        if self.policy is not None:
            h["RestartPolicy"] = rp
        h["CapAdd"] = rng.sample(["NET_ADMIN", "SYS_PTRACE", "NET_RAW", "SYS_NICE"],
                                 rng.randrange(1, 3))
        h["CapDrop"] = ["MKNOD", "AUDIT_WRITE"]
        h["Dns"] = ["10.96.0.10"]
        h["DnsOptions"] = ["ndots:5"]
        h["DnsSearch"] = ["default.svc.cluster.local", "svc.cluster.local"]
        h["ExtraHosts"] = ["registry.example.com:10.0.0.12"]
        h["CPUShares"] = rng.choice([512, 1024, 2048])
        h["Memory"] = rng.choice([256, 512, 1024, 2048]) * 1048576
        oom = rng.choice([-500, 0, 0, 300])
        if oom:
            h["OomScoreAdj"] = oom
        h["CPUPeriod"] = 100000
        h["CPUQuota"] = rng.choice([50000, 100000, 200000])
        h["CpusetCpus"] = rng.choice(["0", "1", "0-1"])
        h["SecurityOpt"] = ["seccomp=unconfined"] if rng.random() < 0.1 else ["no-new-privileges"]
        h["MemorySwap"] = h["Memory"] * 2
        h["PidsLimit"] = rng.choice([1024, 4096])
        h["FilesLimit"] = 1048576
        h["Ulimits"] = [{"Name": "nofile", "Hard": 1048576, "Soft": 1048576}]
        h["CgroupParent"] = "/isulad"
        h["MaskedPaths"] = MASKED_PATHS
        h["ReadonlyPaths"] = READONLY_PATHS
        return h

    def state_doc(self):
        """container_state.json in schema key order, zero values omitted (§1.5, §7.2)."""
        if self.state_override is not None:
            return self.state_override
        s = self.status
        started = NEVER if s == "created" else isulad_time(self.started)
        has_finished = s in ("stopped", "restarting") or self.restart_count > 0
        finished = isulad_time(self.finished) if has_finished and s != "created" else NEVER
        d = {}
        if s in ("stopped", "restarting") and self.exit_code:
            d["ExitCode"] = self.exit_code
        d["FinishedAt"] = finished
        if s == "paused":
            d["Paused"] = True
        if s in ("running", "paused"):
            d["Pid"] = self.pid
            d["PPid"] = self.ppid
            d["StartTime"] = self.start_time
            d["PStartTime"] = self.p_start_time
        if self.removal:
            d["RemovalInprogress"] = True
        if s == "restarting":
            d["Restarting"] = True
        if s in ("running", "paused", "restarting"):
            d["Running"] = True
        d["StartedAt"] = started
        if s == "starting":
            d["Starting"] = True
        if self.restart_count:
            d["RestartCount"] = self.restart_count
        if self.manual:
            d["HasBeenManuallyStopped"] = True
        if self.health and s in ("running", "paused"):
            t0 = self.started.plus(40, 1000)
            d["Health"] = {"Status": "healthy", "Log": [
                {"Start": isulad_time(t0.plus(30 * i, 100)),
                 "End": isulad_time(t0.plus(30 * i, 52000000)), "Output": ""} for i in range(3)]}
        d.update(self.extra_state)
        return d

    def network_doc(self):
        rng = self.g.rng
        ip = "172.17.%d.%d" % (rng.randrange(256), rng.randrange(2, 254))
        mac = "02:42:ac:11:%02x:%02x" % (rng.randrange(256), rng.randrange(256))
        return {"SandboxKey": "/var/run/netns/isulacni-%016x" % rng.getrandbits(64),
                "Gateway": "172.17.0.1", "IPAddress": ip, "IPPrefixLen": 16, "MacAddress": mac,
                "Activation": True,
                "Networks": {"isulacni": {"NetworkID": "%064x" % rng.getrandbits(256),
                                          "EndpointID": "%064x" % rng.getrandbits(256),
                                          "Gateway": "172.17.0.1", "IPAddress": ip,
                                          "IPPrefixLen": 16, "MacAddress": mac}}}

    # -- expectation ---------------------------------------------------------------------------

    def persisted_status(self):
        return self.status

    def expect_restored(self, persisted=None, exit_code=None, restart_count=None, manual=None,
                        warning=False):
        """What restored reports when no process is alive (research §3.3, §5, CONTRACT §4)."""
        persisted = persisted or self.persisted_status()
        exit_code = self.exit_code if exit_code is None else exit_code
        restart_count = self.restart_count if restart_count is None else restart_count
        manual = self.manual if manual is None else manual
        e = {"outcome": "OUTCOME_RESTORED", "stage": "STAGE_HANDLE",
             "persistedStatus": STATUS_ENUM[persisted]}
        if persisted in LIVE_STATUSES:
            # runtime says stopped (no shim): GC owns it, forced exit 255 (§3.3). A state
            # without StartedAt gets iSulad's "never" time (README: deliberate differences),
            # so it derives STOPPED rather than UNKNOWN at every later restore.
            e.update(status="STATUS_STOPPED", action="ACTION_SKIP_GC", exitCode=255)
        else:
            e["status"] = STATUS_ENUM[persisted]
            e["exitCode"] = exit_code if persisted == "stopped" else 0
            if self.in_gc:
                e["action"] = "ACTION_SKIP_GC"
            elif self.auto_remove_bak:
                e["action"] = "ACTION_AUTO_REMOVE"
            elif persisted == "created":
                e["action"] = "ACTION_KEEP_STOPPED"       # CONTRACT §4.4
            elif should_restart(self.policy, self.max_retry, restart_count, exit_code, manual):
                e["action"] = "ACTION_RESTART"
            else:
                e["action"] = "ACTION_KEEP_STOPPED"
        if warning:
            e["warning"] = True      # restored, with ContainerResult.error explaining the fallback
        self.expect = e

    def expect_failed(self, stage, reason):
        self.expect = {"outcome": "OUTCOME_FAILED", "stage": stage, "reason": reason}

    # -- writing -------------------------------------------------------------------------------

    def write(self):
        d = self.path()
        os.mkdir(d, DIR_MODE)
        write_file(os.path.join(d, "config.v2.json"), beautify(self.config_doc()))
        write_file(os.path.join(d, "hostconfig.json"), beautify(self.hostconfig_doc()))
        write_file(os.path.join(d, "container_state.json"), beautify(self.state_doc()))
        if self.network:
            write_file(os.path.join(d, "network_settings.json"), beautify(self.network_doc()))
        self.write_aux(d)

    def write_aux(self, d):
        g = self.g
        if not g.full:
            return self.write_runtime_state()
        write_file(os.path.join(d, "hostname"), (self.id[:12] + "\n").encode(), 0o644)
        write_file(os.path.join(d, "hosts"), g.hosts_bytes, 0o644)
        write_file(os.path.join(d, "resolv.conf"), g.resolv_bytes, 0o644)
        os.makedirs(os.path.join(d, "mounts", "shm"), DIR_MODE)
        if self.image:
            rd = os.path.join(g.graph, "storage", "overlay-containers", self.id)
            os.makedirs(rd, DIR_MODE, exist_ok=True)
            write_file(os.path.join(rd, "container.json"), compact(
                {"id": self.id, "names": [self.id], "image": self.image.id,
                 "layer": "%064x" % g.rng.getrandbits(256), "metadata": "{}",
                 "created": utc_time(self.created), "flags": {"MountLabel": "",
                 "ProcessLabel": "", "StorageOpts": {"size": "0"}}}), 0o600)
        self.write_runtime_state()

    def write_runtime_state(self):
        g = self.g
        if not g.after_reboot and self.status in ("running", "paused"):
            # what a runc-type container leaves in /var/run/isulad/<rt>/<id> (§3.1); the shim
            # is dead (its pid cannot exist), so the runtime reports the container stopped.
            sd = os.path.join(g.state, self.runtime, self.id)
            os.makedirs(sd, 0o700, exist_ok=True)
            write_file(os.path.join(sd, "shim-pid"), str(self.ppid).encode(), 0o600)
            write_file(os.path.join(sd, "pid"), str(self.pid).encode(), 0o600)
            os.mkfifo(os.path.join(sd, "exit_fifo"), 0o600)


def should_restart(policy, max_retry, restart_count, exit_code, manual):
    """iSulad's restart_manager_should_restart() for a container found stopped (§5.4)."""
    if policy == "always":
        return True
    if policy == "unless-stopped":
        return not manual
    if policy == "on-failure":
        failure_count = restart_count + 1 if exit_code != 0 else 0
        return exit_code != 0 and (max_retry == 0 or failure_count <= max_retry)
    if policy == "on-reboot":
        return exit_code == 129
    return False


# ---------------------------------------------------------------------------------------------
# The generator


class Graph:
    def __init__(self, graph, state, seed, after_reboot, full=True):
        self.full = full
        self.graph = os.path.abspath(graph)
        self.state = os.path.abspath(state)
        self.rng = random.Random(seed)
        self.after_reboot = after_reboot
        self.images = [Image(s, self.rng) for s in IMAGE_SPECS]
        self.by_key = {i.key: i for i in self.images}
        self.ctrs = []
        self.extra_entries = []      # manifest rows for entries that are not Ctr (files, links)
        self.ids = set()
        self.names = set()
        self.pids = set()
        self.hosts_bytes = (b"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                            b"fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\n")
        self.resolv_bytes = (b"nameserver 10.96.0.10\nsearch default.svc.cluster.local "
                             b"svc.cluster.local\noptions ndots:5\n")

    def new_id(self):
        while True:
            i = "%064x" % self.rng.getrandbits(256)
            if i not in self.ids:
                self.ids.add(i)
                return i

    def unique_name(self, base):
        name, n = base, 1
        while name in self.names:
            n += 1
            name = "%s-%d" % (base, n)
        self.names.add(name)
        return name

    def dead_pid(self):
        while True:
            p = PID_MAX_LIMIT + 100 + self.rng.randrange(1, 2**31 - PID_MAX_LIMIT - 200)
            if p not in self.pids:
                self.pids.add(p)
                return p

    def clock(self, lo, hi):
        return Clock(BASE_TIME + datetime.timedelta(seconds=self.rng.randrange(lo, hi)),
                     self.rng.randrange(10**9))

    def add(self, c):
        self.ctrs.append(c)
        return c

    def image(self, key):
        return self.by_key[key]

    # -- mixes ---------------------------------------------------------------------------------

    def mix_demo(self):
        img, N = self.image, self.unique_name
        a = self.add
        a(Ctr(self, "running-health", status="running", name=N("web"), image=img("nginx"),
              image_ref="nginx:1.25", policy="always", health=True, network=True)).expect_restored()
        a(Ctr(self, "running-fullname", status="running", name=N("cache"), image=img("redis"),
              image_ref="docker.io/library/redis:7.2", policy="unless-stopped",
              network=True)).expect_restored()
        a(Ctr(self, "running-unnamed", status="running", image=img("busybox"),
              image_ref="busybox")).expect_restored()
        a(Ctr(self, "paused", status="paused", name=N("worker-paused"), image=img("busybox"),
              image_ref="busybox:latest", policy="on-failure", max_retry=3)).expect_restored()
        a(Ctr(self, "restarting", status="restarting", name=N("flaky"), image=img("api"),
              policy="always", restart_count=4, exit_code=1)).expect_restored()
        a(Ctr(self, "starting", status="starting", name=N("booting"), image=img("api"),
              image_ref="registry.example.com/team/api:2.3.1")).expect_restored()
        a(Ctr(self, "stopped-exit0-onfailure", status="stopped", name=N("batch-ok"),
              image=img("busybox"), image_ref=img("busybox").id[:12], policy="on-failure",
              max_retry=3)).expect_restored()
        a(Ctr(self, "stopped-exit1-onfailure-retry", status="stopped", name=N("batch-failed"),
              image=img("busybox"), policy="on-failure", max_retry=3, restart_count=1,
              exit_code=1)).expect_restored()
        a(Ctr(self, "stopped-onfailure-exhausted", status="stopped", name=N("batch-gave-up"),
              image=img("busybox"), policy="on-failure", max_retry=3, restart_count=3,
              exit_code=2)).expect_restored()
        a(Ctr(self, "stopped-unless-stopped-manual", status="stopped", name=N("api-stopped"),
              image=img("api"), policy="unless-stopped", exit_code=143,
              manual=True)).expect_restored()
        a(Ctr(self, "stopped-always-manual", status="stopped", name=N("proxy"),
              image=img("nginx"), policy="always", exit_code=137, manual=True)).expect_restored()
        a(Ctr(self, "stopped-on-reboot-129", status="stopped", name=N("syscontainer"),
              image=img("busybox"), policy="on-reboot", exit_code=129)).expect_restored()
        a(Ctr(self, "stopped-no-policy", status="stopped", name=N("one-shot"),
              image=img("busybox"), image_ref=img("busybox").id, exit_code=0)).expect_restored()
        a(Ctr(self, "created-always", status="created", name=N("never-started"),
              image=img("redis"), image_ref="redis:7.2", policy="always")).expect_restored()
        a(Ctr(self, "created-rm", status="created", name=N("tmp-job"), image=img("busybox"),
              auto_remove=True)).expect_restored()
        a(Ctr(self, "stopped-rm-during-restart", status="stopped", name=N("tmp-restarted"),
              image=img("busybox"), auto_remove=False, auto_remove_bak=True,
              exit_code=137)).expect_restored()
        a(Ctr(self, "removal-in-progress", status="removal", name=N("being-removed"),
              image=img("busybox"), exit_code=137, removal=True)).expect_restored()
        a(Ctr(self, "running-in-gc", status="running", name=N("gc-pending"), image=img("nginx"),
              in_gc=True)).expect_restored()
        self.legacy(N("legacy-2019"))
        # two broken ones, as an operator meets them after a crash
        self.broken_config_truncated(N("orders-db"))
        c = a(Ctr(self, "image-missing", status="running", name=N("old-alpine"), image=None,
                  image_ref="alpine:3.19", policy="always"))
        c.expect_failed("STAGE_VERIFY", "REASON_IMAGE_MISSING")

    def legacy(self, name):
        """Before v2.0.8 the state lived in config.v2.json and container_state.json did not
        exist: iSulad falls back to the "State" object (§1.3)."""
        c = self.add(Ctr(self, "legacy-state-in-config", status="stopped", name=name,
                         image=self.image("busybox"), image_ref="busybox", policy="no",
                         exit_code=0))
        legacy_state = {"FinishedAt": isulad_time(c.finished), "StartedAt":
                        isulad_time(c.started)}
        c.config_override = lambda doc: dict(doc, State=legacy_state)
        c.write_mode = "no-state-file"
        c.expect_restored()

    def broken_config_truncated(self, name):
        c = self.add(Ctr(self, "config-truncated", status="running", name=name,
                         image=self.image("redis"), policy="always"))
        c.write_mode = "config-truncated"
        c.expect_failed("STAGE_LOAD", "REASON_CONFIG_CORRUPT")
        return c

    def mix_broken(self):
        img, N = self.image, self.unique_name
        a = self.add
        load_failures = [
            ("config-missing", "REASON_CONFIG_MISSING"),
            ("config-empty", "REASON_CONFIG_CORRUPT"),
            ("config-nul", "REASON_CONFIG_CORRUPT"),
            ("config-huge", "REASON_TOO_LARGE"),
            ("config-deep", "REASON_TOO_LARGE"),
            ("config-fifo", "REASON_CONFIG_CORRUPT"),
            ("config-is-dir", "REASON_CONFIG_CORRUPT"),
            ("config-no-id", "REASON_CONFIG_CORRUPT"),
            ("config-no-name", "REASON_CONFIG_CORRUPT"),
            ("config-no-state", "REASON_CONFIG_CORRUPT"),
            ("config-not-object", "REASON_CONFIG_CORRUPT"),
            ("hostconfig-missing", "REASON_HOSTCONFIG_MISSING"),
            ("hostconfig-corrupt", "REASON_HOSTCONFIG_CORRUPT"),
            ("hostconfig-fifo", "REASON_HOSTCONFIG_CORRUPT"),
            ("network-corrupt", "REASON_STATE_CORRUPT"),
        ]
        a(Ctr(self, "healthy-running", status="running", name=N("broken-neighbour-1"),
              image=img("nginx"), policy="always")).expect_restored()
        a(Ctr(self, "healthy-stopped", status="stopped", name=N("broken-neighbour-2"),
              image=img("busybox"), exit_code=1, policy="on-failure",
              max_retry=5)).expect_restored()
        self.broken_config_truncated(N("broken-config-truncated"))
        for case, reason in load_failures:
            c = a(Ctr(self, case, status="running", name=N("broken-" + case),
                      image=img("busybox"), policy="always", network=case == "network-corrupt"))
            c.write_mode = case
            c.expect_failed("STAGE_LOAD", reason)

        # the container directory itself is wrong
        c = a(Ctr(self, "dir-symlink", status="running", name=N("broken-dir-symlink"),
                  image=img("busybox")))
        c.write_mode = "dir-symlink"
        c.expect_failed("STAGE_LOAD", "REASON_NOT_A_DIRECTORY")
        self.extra_entries.append({"runtime": "runc", "dir": "%064x" % self.rng.getrandbits(256),
                                   "kind": "file", "case": "dir-regular-file",
                                   "expect": {"outcome": "OUTCOME_FAILED",
                                              "stage": "STAGE_LOAD",
                                              "reason": "REASON_NOT_A_DIRECTORY"}})

        # the state files are damaged but iSulad still restores it
        c = a(Ctr(self, "state-corrupt", status="running", name=N("broken-state-corrupt"),
                  image=img("busybox"), policy="always"))
        c.write_mode = "state-corrupt"
        # fallback to config.v2.json "State": {} -> no StartedAt/FinishedAt -> UNKNOWN (§1.6)
        c.expect_restored(persisted="unknown", warning=True)
        self.legacy(N("broken-legacy-state"))
        c = a(Ctr(self, "wrong-typed-keys", status="stopped", name=N("broken-wrong-types"),
                  image=img("busybox"), policy="on-failure", max_retry=3))
        # Wrong JSON types are silently ignored (§1.4): not running, exit code 0 -> no restart.
        c.extra_state = {"Pid": "12", "Running": "true", "ExitCode": "1"}
        c.expect_restored()
        c = a(Ctr(self, "external-rootfs", status="stopped", name=N("broken-external-rootfs"),
                  image=None, image_ref="none"))
        c.config_override = lambda doc: _set_common(doc, ImageType="external")
        c.expect_restored()       # no image check for non-OCI image types (§2)

        # verify
        c = a(Ctr(self, "image-missing", status="running", name=N("broken-image-missing"),
                  image=None, image_ref="alpine:3.19", policy="always"))
        c.expect_failed("STAGE_VERIFY", "REASON_IMAGE_MISSING")
        c = a(Ctr(self, "image-type-missing", status="stopped", name=N("broken-no-image-type"),
                  image=img("busybox")))
        c.config_override = lambda doc: _del_common(doc, "ImageType")
        c.expect_failed("STAGE_VERIFY", "REASON_IMAGE_UNKNOWN")

        # register (serial, in result order: runtime, then directory name)
        c = a(Ctr(self, "invalid-id", status="stopped", name=N("broken-invalid-id"),
                  image=img("busybox"), id="ABC"))
        c.expect_failed("STAGE_REGISTER", "REASON_INVALID_ID")
        c = a(Ctr(self, "id-mismatch", status="stopped", name=N("broken-id-mismatch"),
                  image=img("busybox")))
        c.dir = self.new_id()
        c.expect_failed("STAGE_REGISTER", "REASON_ID_MISMATCH")
        c = a(Ctr(self, "invalid-name", status="stopped", name="bad name!", image=img("busybox")))
        c.expect_failed("STAGE_REGISTER", "REASON_INVALID_NAME")

        dup = N("broken-dup-name")
        pair = sorted([Ctr(self, "duplicate-name", status="stopped", name=dup, image=img("busybox"))
                       for _ in range(2)], key=lambda c: c.dir)
        pair[0].case = "duplicate-name-winner"
        pair[0].expect_restored()
        pair[1].case = "duplicate-name-loser"
        pair[1].expect_failed("STAGE_REGISTER", "REASON_DUPLICATE_NAME")
        for c in pair:
            a(c)

        # same id in two engine dirs: "crun" sorts before "runc", so crun's copy wins
        win = a(Ctr(self, "duplicate-id-winner", runtime="crun", status="stopped",
                    name=N("broken-dup-id-crun"), image=img("busybox")))
        win.expect_restored()
        lose = a(Ctr(self, "duplicate-id-loser", runtime="runc", status="stopped",
                     name=N("broken-dup-id-runc"), image=img("busybox"), id=win.id))
        lose.expect_failed("STAGE_REGISTER", "REASON_DUPLICATE_ID")

    def mix_bench(self, count):
        rng = self.rng
        imgs = self.images
        weights = [35, 25, 20, 20]
        for i in range(count):
            r = rng.random()
            if r < 0.60:
                status = "running"
            elif r < 0.88:
                status = "stopped"
            elif r < 0.94:
                status = "created"
            elif r < 0.97:
                status = "paused"
            elif r < 0.98:
                status = "restarting"
            elif r < 0.99:
                status = "starting"
            else:
                status = "removal"
            p = rng.random()
            max_retry = 0
            if p < 0.35:
                policy = "no"
            elif p < 0.60:
                policy = "always"
            elif p < 0.85:
                policy = "unless-stopped"
            elif p < 0.995:
                policy = "on-failure"
                max_retry = rng.choice([0, 3, 5, 10])
            else:
                policy = "on-reboot"
            auto_remove = policy == "no" and rng.random() < 0.08
            exit_code, manual = 0, False
            if status in ("stopped", "removal", "restarting"):
                exit_code = rng.choice([0, 0, 1, 2, 137, 137, 143, 255, 129 if
                                        policy == "on-reboot" else 1])
                manual = status != "restarting" and exit_code in (137, 143) and rng.random() < 0.7
            restart_count = 0
            if policy != "no" and rng.random() < 0.2:
                restart_count = rng.randrange(1, 6)
            image = rng.choices(imgs, weights)[0]
            named = rng.random() < 0.7
            name = self.unique_name("%s-%s-%05d" % (image.key, rng.choice(WORDS), i)) if named \
                else None
            c = self.add(Ctr(self, "bench-" + status, status=status, name=name, image=image,
                             policy=policy, max_retry=max_retry, restart_count=restart_count,
                             exit_code=exit_code, manual=manual, auto_remove=auto_remove,
                             health=rng.random() < 0.15, network=rng.random() < 0.4,
                             in_gc=status == "running" and rng.random() < 0.005,
                             removal=status == "removal"))
            c.expect_restored()

    # -- writing -------------------------------------------------------------------------------

    def write(self):
        engines = os.path.join(self.graph, "engines")
        store = os.path.join(self.graph, "storage", "overlay-images")
        for p in (engines, store, os.path.join(self.graph, "storage", "overlay-containers"),
                  self.state):
            os.makedirs(p, DIR_MODE, exist_ok=True)
        for rt in sorted({c.runtime for c in self.ctrs} | {"runc"}):
            os.makedirs(os.path.join(engines, rt), 0o700, exist_ok=True)
            os.makedirs(os.path.join(self.state, rt), 0o700, exist_ok=True)
        for im in self.images:
            im.write(store)
        for c in self.ctrs:
            if c.write_mode is None:
                c.write()
            else:
                write_broken(c)
        for e in self.extra_entries:
            if e["kind"] == "file":   # a stray regular file where a container dir should be
                write_file(os.path.join(engines, e["runtime"], e["dir"]),
                           b"leftover from a failed backup copy\n")
        gc = [c for c in self.ctrs if c.in_gc]
        if gc:
            write_file(os.path.join(self.graph, "garbage.json"), beautify({"GcContainers": [
                {"id": c.id, "runtime": c.runtime, "pid": c.pid, "StartTime": c.start_time,
                 "ppid": c.ppid, "PStartTime": c.p_start_time} for c in gc]}), 0o600)

    def manifest(self, mix, seed):
        rows = []
        for c in self.ctrs:
            rows.append({"runtime": c.runtime, "dir": c.dir, "id": c.id, "name": c.name,
                         "image": c.image_ref, "case": c.case, "expect": c.expect})
        for e in self.extra_entries:
            rows.append({"runtime": e["runtime"], "dir": e["dir"], "id": None, "name": None,
                         "image": None, "case": e["case"], "expect": e["expect"]})
        rows.sort(key=lambda r: (r["runtime"], r["dir"]))
        failed = sum(r["expect"]["outcome"] == "OUTCOME_FAILED" for r in rows)
        return {"generator": "tests/tools/graphgen.py", "mix": mix, "seed": seed,
                "graph": self.graph, "state": self.state,
                "total": len(rows), "restored": len(rows) - failed, "failed": failed,
                "images": [{"id": i.id, "names": i.names} for i in self.images],
                "containers": rows}


def _set_common(doc, **kv):
    doc["CommonConfig"].update(kv)
    return doc


def _del_common(doc, key):
    doc["CommonConfig"].pop(key, None)
    return doc


def write_broken(c):
    """Writes a container and then damages it the way c.write_mode says."""
    mode = c.write_mode
    if mode == "dir-symlink":
        # a valid container that lives elsewhere, symlinked into the engine dir
        link = c.path()
        c.home = os.path.join(c.g.graph, "moved-containers", c.dir)
        os.makedirs(os.path.dirname(c.home), DIR_MODE, exist_ok=True)
        c.write()
        os.symlink(c.home, link)
        return
    if mode == "no-state-file":
        c.write()
        os.unlink(os.path.join(c.path(), "container_state.json"))
        return
    c.write()
    d = c.path()
    cfg = os.path.join(d, "config.v2.json")
    host = os.path.join(d, "hostconfig.json")
    if mode == "config-missing":
        os.unlink(cfg)
    elif mode == "config-truncated":
        data = open(cfg, "rb").read()
        write_file(cfg, data[:len(data) * 3 // 5])
    elif mode == "config-empty":
        write_file(cfg, b"")
    elif mode == "config-nul":
        # what a non-fsynced rename can leave after a power loss: right size, all zeros
        write_file(cfg, b"\0" * os.path.getsize(cfg))
    elif mode == "config-huge":
        os.truncate(cfg, 100 * 1024 * 1024)                 # sparse: costs no disk
    elif mode == "config-deep":
        write_file(cfg, b"[" * 100000 + b"]" * 100000)       # valid JSON, 100k levels deep
    elif mode == "config-fifo":
        os.unlink(cfg)
        os.mkfifo(cfg, 0o640)
    elif mode == "config-is-dir":
        os.unlink(cfg)
        os.mkdir(cfg, DIR_MODE)
    elif mode in ("config-no-id", "config-no-name", "config-no-state", "config-not-object"):
        doc = c.config_doc()
        if mode == "config-no-id":
            del doc["CommonConfig"]["id"]
        elif mode == "config-no-name":
            del doc["CommonConfig"]["Name"]
        elif mode == "config-no-state":
            del doc["State"]
        else:
            doc = [doc]
        write_file(cfg, beautify(doc))
    elif mode == "hostconfig-missing":
        os.unlink(host)
    elif mode == "hostconfig-corrupt":
        data = open(host, "rb").read()
        write_file(host, data[:len(data) // 2] + b"\n")
    elif mode == "hostconfig-fifo":
        os.unlink(host)
        os.mkfifo(host, 0o640)
    elif mode == "state-corrupt":
        p = os.path.join(d, "container_state.json")
        data = open(p, "rb").read()
        write_file(p, data[:len(data) // 2])
    elif mode == "network-corrupt":
        p = os.path.join(d, "network_settings.json")
        data = open(p, "rb").read()
        write_file(p, data[:len(data) // 3])
    else:
        raise ValueError(mode)


# proto3 JSON leaves fields at their default out; these are the defaults.
PROTO_DEFAULTS = {"outcome": "OUTCOME_UNSPECIFIED", "stage": "STAGE_UNSPECIFIED",
                  "reason": "REASON_UNSPECIFIED", "persistedStatus": "STATUS_UNKNOWN",
                  "status": "STATUS_UNKNOWN", "action": "ACTION_NONE", "exitCode": 0}


def check(manifest_path, results_path):
    """Compares `restorectl -o json restore` (or `list`) output with a manifest; returns the
    number of mismatches and prints one line for each."""
    with open(manifest_path) as f:
        m = json.load(f)
    with open(results_path) as f:
        res = json.load(f)
    results = res.get("results", res.get("containers", []))
    by_key = {(r.get("runtime", ""), r.get("dir", "")): r for r in results}
    bad = 0
    for c in m["containers"]:
        r = by_key.pop((c["runtime"], c["dir"]), None)
        if r is None:
            print("%s/%s (%s): no result" % (c["runtime"], c["dir"], c["case"]))
            bad += 1
            continue
        diffs = []
        for k, want in c["expect"].items():
            if k == "warning":
                if want and not r.get("error"):
                    diffs.append("expected a warning in error")
                continue
            got = r.get(k, PROTO_DEFAULTS.get(k))
            if got != want:
                diffs.append("%s: want %s, got %s" % (k, want, got))
        if diffs:
            bad += 1
            print("%s/%s (%s): %s%s" % (c["runtime"], c["dir"], c["case"], "; ".join(diffs),
                                        " [error: %s]" % r["error"] if r.get("error") else ""))
    n = len(m["containers"])
    print("graphgen: %d of %d containers as expected" % (n - bad, n), file=sys.stderr)
    for (rt, d) in sorted(by_key):
        print("%s/%s: result for a directory the manifest does not list" % (rt, d))
        bad += 1
    return bad


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--graph", help="graph root to create (like /var/lib/isulad)")
    ap.add_argument("--state", help="state root to create (like /var/run/isulad)")
    ap.add_argument("--count", type=int, default=None,
                    help="bench-style containers (default: 10000 for bench, 100 for all)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mix", choices=["demo", "bench", "broken", "all"], default="demo")
    ap.add_argument("--manifest", help="write the expected results here (JSON)")
    ap.add_argument("--after-reboot", action="store_true",
                    help="write no per-container state dirs (as after a host reboot)")
    ap.add_argument("--full", dest="full", action="store_true", default=None,
                    help="also write the files restore never reads (hostname, hosts, "
                    "resolv.conf, mounts/shm, rootfs records); default except for bench")
    ap.add_argument("--lean", dest="full", action="store_false",
                    help="write only what restore reads (default for bench)")
    ap.add_argument("--check", metavar="RESULTS.json",
                    help="instead of generating: compare `restorectl -o json restore` (or list) "
                    "output with --manifest; exit 1 on any mismatch")
    args = ap.parse_args(argv)
    if args.check:
        if not args.manifest:
            ap.error("--check needs --manifest")
        return 1 if check(args.manifest, args.check) else 0
    if not args.graph or not args.state:
        ap.error("--graph and --state are required")

    engines = os.path.join(args.graph, "engines")
    if os.path.isdir(engines) and os.listdir(engines):
        ap.error("%s already holds containers; use an empty graph root" % engines)
    full = args.full if args.full is not None else args.mix != "bench"
    g = Graph(args.graph, args.state, args.seed, args.after_reboot, full)
    count = args.count
    if count is None:
        count = {"bench": 10000, "all": 100}.get(args.mix, 0)
    if args.mix in ("demo", "all"):
        g.mix_demo()
    if args.mix in ("broken", "all"):
        g.mix_broken()
    if count:
        g.mix_bench(count)
    g.write()
    m = g.manifest(args.mix, args.seed)
    if args.manifest:
        with open(args.manifest, "w") as f:
            json.dump(m, f, indent=2)
            f.write("\n")
    print("graphgen: %d container dirs (%d expected to restore, %d to fail) in %s" %
          (m["total"], m["restored"], m["failed"], g.graph), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
