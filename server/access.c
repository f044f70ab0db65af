/* access.c - the per-RPC access rules, and resolving who is on the other end of a socket. */
#include "access.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"

#define RESTORE_SERVICE "/isula.restore.v1.Restore/"

/*
 * Read-only methods. Everything else, including a method added later and forgotten here,
 * needs write access: a missing entry fails closed.
 */
static const char *const read_methods[] = {
    RESTORE_SERVICE "ListRestored",
    RESTORE_SERVICE "Watch",
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.health.v1.Health/List",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
};

enum rd_method_class rd_method_classify(const char *method_path)
{
        for (size_t i = 0; method_path && i < ARRAY_SIZE(read_methods); i++)
                if (strcmp(method_path, read_methods[i]) == 0)
                        return RD_METHOD_READ;
        return RD_METHOD_WRITE;
}

/* "RestoreAll" for our own service, "grpc.health.v1.Health/Check" for the others. */
static const char *display_name(const char *method_path)
{
        if (!method_path)
                return "(no method)";
        if (strncmp(method_path, RESTORE_SERVICE, strlen(RESTORE_SERVICE)) == 0)
                return method_path + strlen(RESTORE_SERVICE);
        return method_path[0] == '/' ? method_path + 1 : method_path;
}

static bool in_groups(const struct rd_peer_info *peer, gid_t gid)
{
        if (gid == RD_GID_NONE)
                return false;
        for (size_t i = 0; i < peer->n_gids; i++)
                if (peer->gids[i] == gid)
                        return true;
        return false;
}

static int deny(char *msg, size_t msglen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int deny(char *msg, size_t msglen, const char *fmt, ...)
{
        va_list ap;

        if (msg && msglen) {
                va_start(ap, fmt);
                vsnprintf(msg, msglen, fmt, ap);
                va_end(ap);
        }
        return RD_ACCESS_PERMISSION_DENIED;
}

/* "root, group 991 (--read-gid) or group 990 (--admin-gid)" and its shorter forms. */
static void who_may_read(const struct rd_access_policy *p, char *buf, size_t len)
{
        if (p->read_gid != RD_GID_NONE && p->admin_gid != RD_GID_NONE)
                snprintf(buf, len, "root, group %u (--read-gid) or group %u (--admin-gid)",
                         (unsigned)p->read_gid, (unsigned)p->admin_gid);
        else if (p->read_gid != RD_GID_NONE)
                snprintf(buf, len, "root or group %u (--read-gid)", (unsigned)p->read_gid);
        else if (p->admin_gid != RD_GID_NONE)
                snprintf(buf, len, "root or group %u (--admin-gid)", (unsigned)p->admin_gid);
        else
                snprintf(buf, len, "root (no --read-gid or --admin-gid is set)");
}

static int check_unix(const struct rd_access_policy *p, const struct rd_peer_info *peer,
                      const char *method_path, char *msg, size_t msglen)
{
        const char *name = display_name(method_path);
        bool reader = in_groups(peer, p->read_gid);
        char who[128];

        if (peer->uid == 0 || in_groups(peer, p->admin_gid))
                return RD_ACCESS_OK;
        if (rd_method_classify(method_path) == RD_METHOD_READ) {
                if (reader)
                        return RD_ACCESS_OK;
                who_may_read(p, who, sizeof(who));
                return deny(msg, msglen, "uid %u may not call %s: it needs %s", (unsigned)peer->uid, name,
                            who);
        }
        if (p->admin_gid == RD_GID_NONE)
                snprintf(who, sizeof(who), "root (no --admin-gid is set)");
        else
                snprintf(who, sizeof(who), "root or group %u (--admin-gid)", (unsigned)p->admin_gid);
        return deny(msg, msglen, "uid %u may not call %s: it needs %s%s", (unsigned)peer->uid, name, who,
                    reader ? "; --read-gid only allows reading" : "");
}

static int check_tcp(const struct rd_access_policy *p, const struct rd_peer_info *peer,
                     const char *method_path, bool tcp_allow_write, char *msg, size_t msglen)
{
        const char *name = display_name(method_path);
        const char *addr = peer->address ? peer->address : "(unknown address)";

        if (p->tcp_require_client_cert && !peer->tls_verified)
                return deny(msg, msglen,
                            "TCP client %s may not call %s: --tls-ca requires a verified client "
                            "certificate",
                            addr, name);
        if (rd_method_classify(method_path) == RD_METHOD_READ)
                return RD_ACCESS_OK;
        if (!tcp_allow_write)
                return deny(msg, msglen,
                            "TCP client %s may not call %s: the TCP listener is read-only "
                            "(--listen-allow-write is not set)",
                            addr, name);
        if (!peer->tls_verified)
                return deny(msg, msglen,
                            "TCP client %s may not call %s: writes over TCP need a client "
                            "certificate verified by --tls-ca",
                            addr, name);
        return RD_ACCESS_OK;
}

int rd_access_check(const struct rd_access_policy *p, const struct rd_peer_info *peer,
                    const char *method_path, bool tcp_allow_write, char *msg, size_t msglen)
{
        if (msg && msglen)
                msg[0] = '\0';
        if (peer->tcp)
                return check_tcp(p, peer, method_path, tcp_allow_write, msg, msglen);
        return check_unix(p, peer, method_path, msg, msglen);
}

/* ---- resolving a unix peer ---- */

static int prepend_gid(gid_t first, const gid_t *rest, size_t n_rest, gid_t **ret_gids, size_t *ret_n)
{
        gid_t *all = malloc((n_rest + 1) * sizeof(*all));
        size_t n = 0;

        if (!all)
                return -ENOMEM;
        all[n++] = first;
        for (size_t i = 0; i < n_rest; i++)
                if (rest[i] != first)
                        all[n++] = rest[i];
        *ret_gids = all;
        *ret_n = n;
        return 0;
}

static int user_name(uid_t uid, char **ret_name, gid_t *ret_gid)
{
        long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
        size_t size = hint > 0 ? (size_t)hint : 16384;

        for (; size <= 1024 * 1024; size *= 2) {
                _cleanup_free_ char *buf = malloc(size);
                struct passwd pw, *found = NULL;
                int r;

                if (!buf)
                        return -ENOMEM;
                r = getpwuid_r(uid, &pw, buf, size, &found);
                if (r == ERANGE)
                        continue;
                if (r != 0 || !found)
                        return -ENOENT;
                *ret_name = strdup(found->pw_name);
                if (!*ret_name)
                        return -ENOMEM;
                *ret_gid = found->pw_gid;
                return 0;
        }
        return -E2BIG;
}

int rd_user_groups(uid_t uid, gid_t primary, gid_t **ret_gids, size_t *ret_n)
{
        _cleanup_free_ char *name = NULL;
        _cleanup_free_ gid_t *groups = NULL;
        gid_t pw_gid;
        int n = 64, r;

        r = user_name(uid, &name, &pw_gid);
        if (r == -ENOENT) /* a uid without a passwd entry (a container's user) has no group list */
                return prepend_gid(primary, NULL, 0, ret_gids, ret_n);
        if (r < 0)
                return r;
        for (;;) {
                int want = n;
                free(groups);
                groups = malloc((size_t)n * sizeof(*groups));
                if (!groups)
                        return -ENOMEM;
                if (getgrouplist(name, pw_gid, groups, &n) >= 0)
                        break;
                /* glibc sets n to the size needed; guard against one that never settles. */
                if (n <= want)
                        n = want * 2;
                if (n > RD_PEER_GIDS_MAX)
                        return -E2BIG;
        }
        return prepend_gid(primary, groups, (size_t)n, ret_gids, ret_n);
}

/* SO_PEERGROUPS answers ERANGE with the size it needs. */
static int socket_groups(int fd, gid_t primary, gid_t **ret_gids, size_t *ret_n)
{
        socklen_t len = 64 * sizeof(gid_t);

        for (;;) {
                _cleanup_free_ gid_t *groups = malloc(len ? len : sizeof(gid_t));
                socklen_t got = len;

                if (!groups)
                        return -ENOMEM;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &got) == 0)
                        return prepend_gid(primary, groups, got / sizeof(gid_t), ret_gids, ret_n);
                if (errno != ERANGE || got <= len || got > RD_PEER_GIDS_MAX * sizeof(gid_t))
                        return -errno;
                len = got;
        }
}

int rd_peer_cred_from_fd(int fd, struct rd_peer_cred *ret)
{
        struct ucred uc;
        socklen_t len = sizeof(uc);
        gid_t *gids = NULL;
        size_t n = 0;
        int r;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
                return -errno;
        r = socket_groups(fd, uc.gid, &gids, &n);
        /* Kernels before 4.13 lack SO_PEERGROUPS: use the group database instead. */
        if (r == -ENOPROTOOPT)
                r = rd_user_groups(uc.uid, uc.gid, &gids, &n);
        if (r < 0)
                return r;
        *ret = (struct rd_peer_cred){.pid = uc.pid, .uid = uc.uid, .gid = uc.gid, .gids = gids, .n_gids = n};
        return 0;
}

void rd_peer_cred_done(struct rd_peer_cred *c)
{
        if (!c)
                return;
        free(c->gids);
        *c = (struct rd_peer_cred){0};
}

void rd_peer_info_from_cred(const struct rd_peer_cred *c, struct rd_peer_info *ret)
{
        *ret = (struct rd_peer_info){.uid = c->uid, .gids = c->gids, .n_gids = c->n_gids};
}
