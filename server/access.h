/*
 * access.h - who may call which RPC.
 *
 * The rules (one place, so the docs and the tests can quote them):
 *   unix socket (SO_PEERCRED, whether restored created the socket or systemd passed it):
 *     - uid 0 may call everything;
 *     - members of --admin-gid may call everything (admin implies read);
 *     - members of --read-gid may call the read RPCs: ListRestored, Watch, grpc.health.v1 and
 *       server reflection;
 *     - RestoreAll, HandleContainer and any method not listed here need root or --admin-gid;
 *     - anyone else: PERMISSION_DENIED, with a message naming the rule.
 *   TCP listener (--listen, always TLS):
 *     - with --tls-ca the TLS handshake already demanded a client certificate; a peer whose
 *       certificate was not verified is refused (defence in depth);
 *     - without --tls-ca every TLS client is anonymous and gets read access;
 *     - write RPCs only with --listen-allow-write, and only from a verified certificate.
 * "Member" means the peer's primary gid or one of its supplementary groups.
 *
 * rd_access_check() is pure: no I/O, no NSS lookup, no gRPC headers. The caller resolves the
 * peer's groups once per connection (rd_peer_cred_from_fd) and passes them in.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* --read-gid / --admin-gid not given. (gid_t)-1 is never a real group: setgid(-1) is a no-op. */
#define RD_GID_NONE ((gid_t)-1)

/* The two gRPC status codes this module returns (grpc_status_code values). */
enum rd_access_status {
        RD_ACCESS_OK = 0,
        RD_ACCESS_PERMISSION_DENIED = 7,
};

/* What a method needs. */
enum rd_method_class {
        RD_METHOD_READ,
        RD_METHOD_WRITE, /* RestoreAll, HandleContainer, and methods we do not know */
};

struct rd_access_policy {
        gid_t read_gid;               /* RD_GID_NONE = no read group */
        gid_t admin_gid;              /* RD_GID_NONE = root only */
        bool tcp_require_client_cert; /* --tls-ca given */
};

struct rd_peer_info {
        bool tcp;          /* came in over --listen rather than the unix socket */
        bool tls_verified; /* TCP: the client certificate chained to --tls-ca */
        uid_t uid;         /* unix: SO_PEERCRED */
        const gid_t *gids; /* unix: primary gid and supplementary groups */
        size_t n_gids;
        const char *address; /* TCP: "ipv4:10.0.0.5:41234", for messages; may be NULL */
};

/* The class of a full method path such as "/isula.restore.v1.Restore/ListRestored". */
enum rd_method_class rd_method_classify(const char *method_path);

/*
 * Returns RD_ACCESS_OK, or RD_ACCESS_PERMISSION_DENIED with msg (if non-NULL) holding one
 * sentence: "uid 1000 may not call RestoreAll: it needs root or group 990 (--admin-gid)".
 * tcp_allow_write is --listen-allow-write.
 */
int rd_access_check(const struct rd_access_policy *p, const struct rd_peer_info *peer,
                    const char *method_path, bool tcp_allow_write, char *msg, size_t msglen);

/* ---- resolving a unix peer (I/O; not used by rd_access_check) ---- */

/* Largest group list kept for a peer; the kernel's NGROUPS_MAX is 65536. */
#define RD_PEER_GIDS_MAX 65536

struct rd_peer_cred {
        pid_t pid;
        uid_t uid;
        gid_t gid;
        gid_t *gids; /* gid first, then the supplementary groups; malloc'd */
        size_t n_gids;
};

/*
 * Reads the peer of a connected AF_UNIX socket: SO_PEERCRED, then SO_PEERGROUPS (the groups
 * the peer process really had at connect(), Linux >= 4.13). Where the kernel lacks
 * SO_PEERGROUPS, falls back to rd_user_groups(). Returns 0 or a negative errno.
 */
int rd_peer_cred_from_fd(int fd, struct rd_peer_cred *ret);
void rd_peer_cred_done(struct rd_peer_cred *c);

/* Points a peer info at a cred (which must outlive it). */
void rd_peer_info_from_cred(const struct rd_peer_cred *c, struct rd_peer_info *ret);

/*
 * The groups of uid's user from the group database (getgrouplist), with `primary` first.
 * A uid with no passwd entry gets just `primary`. malloc'd list in *ret_gids.
 */
int rd_user_groups(uid_t uid, gid_t primary, gid_t **ret_gids, size_t *ret_n);
