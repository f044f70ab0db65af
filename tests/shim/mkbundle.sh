#!/bin/sh
# mkbundle.sh DIR [ARG...] - builds an OCI bundle in DIR for integration tests.
#
# The rootfs holds no copied binaries: the host's /usr (and /bin, /sbin, /lib*, when they are
# real directories rather than merged-/usr symlinks) is bind-mounted read-only, so any host
# binary can be the container's process. ARGs are the process (default: sleep infinity).
# The spec is runc's default (`runc spec`, as root) minus the terminal: terminal=false, so a
# shim can run it detached. Needs no tool beyond sh; prints DIR.
#
#   ./mkbundle.sh /tmp/b1                       # sleeps until killed
#   ./mkbundle.sh /tmp/b2 sh -c 'exit 3'        # exits 3 at once
set -eu

[ $# -ge 1 ] || { echo "usage: $0 DIR [ARG...]" >&2; exit 2; }
dir=$1
shift
[ $# -gt 0 ] || set -- sleep infinity

json_str() {
	# a JSON string literal for $1 (backslash and double quote escaped)
	printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

mkdir -p "$dir/rootfs"
rootfs="$dir/rootfs"
for d in proc dev sys tmp usr etc; do
	mkdir -p "$rootfs/$d"
done

binds=""
add_bind() {
	binds="$binds
		{ \"destination\": \"$1\", \"type\": \"bind\", \"source\": \"$1\", \"options\": [\"rbind\", \"ro\"] },"
}
add_bind /usr
for d in bin sbin lib lib32 lib64 libx32; do
	if [ -L "/$d" ]; then
		[ -e "$rootfs/$d" ] || [ -L "$rootfs/$d" ] || ln -s "$(readlink "/$d")" "$rootfs/$d"
	elif [ -d "/$d" ]; then
		mkdir -p "$rootfs/$d"
		add_bind "/$d"
	fi
done

args=""
for a in "$@"; do
	args="$args${args:+, }$(json_str "$a")"
done

cat > "$dir/config.json" <<JSON
{
	"ociVersion": "1.0.2-dev",
	"process": {
		"terminal": false,
		"user": { "uid": 0, "gid": 0 },
		"args": [ $args ],
		"env": [ "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" ],
		"cwd": "/",
		"capabilities": {
			"bounding": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"effective": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"permitted": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			"ambient": [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ]
		},
		"rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
		"noNewPrivileges": true
	},
	"root": { "path": "rootfs", "readonly": true },
	"hostname": "restored-test",
	"mounts": [$binds
		{ "destination": "/proc", "type": "proc", "source": "proc" },
		{ "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
		  "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
		{ "destination": "/dev/pts", "type": "devpts", "source": "devpts",
		  "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ] },
		{ "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
		  "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
		{ "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "nodev" ] },
		{ "destination": "/sys", "type": "sysfs", "source": "sysfs",
		  "options": [ "nosuid", "noexec", "nodev", "ro" ] }
	],
	"linux": {
		"resources": { "devices": [ { "allow": false, "access": "rwm" } ] },
		"namespaces": [ { "type": "pid" }, { "type": "network" }, { "type": "ipc" },
		                { "type": "uts" }, { "type": "mount" } ],
		"maskedPaths": [ "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
		                 "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
		                 "/proc/sched_debug", "/sys/firmware", "/proc/scsi" ],
		"readonlyPaths": [ "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" ]
	}
}
JSON
echo "$dir"
