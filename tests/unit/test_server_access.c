/* test_server_access.c - the access rules as a table, and resolving a real socket peer. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"
#include "access.h"

#define M_RESTORE_ALL  "/isula.restore.v1.Restore/RestoreAll"
#define M_HANDLE       "/isula.restore.v1.Restore/HandleContainer"
#define M_LIST         "/isula.restore.v1.Restore/ListRestored"
#define M_WATCH        "/isula.restore.v1.Restore/Watch"
#define M_HEALTH_CHECK "/grpc.health.v1.Health/Check"
#define M_HEALTH_WATCH "/grpc.health.v1.Health/Watch"
#define M_REFLECT_V1   "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
#define M_REFLECT_V1A  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
#define M_UNKNOWN      "/isula.restore.v1.Restore/DeleteEverything"

#define READ_GID  991
#define ADMIN_GID 990
#define NONE      RD_GID_NONE

static const gid_t g_user[] = {1000, 24, 27};         /* primary 1000 + cdrom, sudo */
static const gid_t g_reader[] = {1000, READ_GID};     /* read group as a supplementary group */
static const gid_t g_reader_primary[] = {READ_GID};   /* read group as the primary group */
static const gid_t g_admin[] = {1000, 24, ADMIN_GID}; /* admin group as a supplementary group */
static const gid_t g_both[] = {1000, READ_GID, ADMIN_GID};

#define UNIX(uid_, gids_)                                                                                   \
        {                                                                                                   \
                .uid = (uid_), .gids = (gids_), .n_gids = sizeof(gids_) / sizeof(gid_t)                     \
        }
#define TCP(verified_)                                                                                      \
        {                                                                                                   \
                .tcp = true, .tls_verified = (verified_), .address = "ipv4:10.0.0.5:41234"                  \
        }

static const struct rd_access_policy both = {.read_gid = READ_GID, .admin_gid = ADMIN_GID};
static const struct rd_access_policy read_only = {.read_gid = READ_GID, .admin_gid = NONE};
static const struct rd_access_policy admin_only = {.read_gid = NONE, .admin_gid = ADMIN_GID};
static const struct rd_access_policy root_only = {.read_gid = NONE, .admin_gid = NONE};
static const struct rd_access_policy mtls = {
    .read_gid = NONE, .admin_gid = NONE, .tcp_require_client_cert = true};

static const gid_t g_root[] = {0};

static const struct {
        const char *rule;
        const struct rd_access_policy *policy;
        struct rd_peer_info peer;
        const char *method;
        bool tcp_allow_write;
        int want;
        const char *msg; /* exact message when denied */
} cases[] = {
    /* root may do everything, whatever the groups */
    {"root may restore", &root_only, UNIX(0, g_root), M_RESTORE_ALL, false, RD_ACCESS_OK, NULL},
    {"root may handle", &both, UNIX(0, g_root), M_HANDLE, false, RD_ACCESS_OK, NULL},
    {"root may list", &root_only, UNIX(0, g_root), M_LIST, false, RD_ACCESS_OK, NULL},
    {"root may call unknown methods", &root_only, UNIX(0, g_root), M_UNKNOWN, false, RD_ACCESS_OK, NULL},

    /* read group: the read RPCs only */
    {"reader may list", &both, UNIX(1000, g_reader), M_LIST, false, RD_ACCESS_OK, NULL},
    {"reader may watch", &both, UNIX(1000, g_reader), M_WATCH, false, RD_ACCESS_OK, NULL},
    {"reader may check health", &both, UNIX(1000, g_reader), M_HEALTH_CHECK, false, RD_ACCESS_OK, NULL},
    {"reader may watch health", &both, UNIX(1000, g_reader), M_HEALTH_WATCH, false, RD_ACCESS_OK, NULL},
    {"reader may reflect v1", &both, UNIX(1000, g_reader), M_REFLECT_V1, false, RD_ACCESS_OK, NULL},
    {"reader may reflect v1alpha", &both, UNIX(1000, g_reader), M_REFLECT_V1A, false, RD_ACCESS_OK, NULL},
    {"primary gid counts as membership", &read_only, UNIX(1000, g_reader_primary), M_LIST, false,
     RD_ACCESS_OK, NULL},
    {"reader may not restore", &both, UNIX(1000, g_reader), M_RESTORE_ALL, false,
     RD_ACCESS_PERMISSION_DENIED,
     "uid 1000 may not call RestoreAll: it needs root or group 990 (--admin-gid); --read-gid only "
     "allows reading"},
    {"reader may not handle", &both, UNIX(1000, g_reader), M_HANDLE, false, RD_ACCESS_PERMISSION_DENIED,
     "uid 1000 may not call HandleContainer: it needs root or group 990 (--admin-gid); --read-gid "
     "only allows reading"},
    {"reader may not call unknown methods", &both, UNIX(1000, g_reader), M_UNKNOWN, false,
     RD_ACCESS_PERMISSION_DENIED,
     "uid 1000 may not call DeleteEverything: it needs root or group 990 (--admin-gid); --read-gid "
     "only allows reading"},
    {"reader without an admin group", &read_only, UNIX(1000, g_reader), M_RESTORE_ALL, false,
     RD_ACCESS_PERMISSION_DENIED,
     "uid 1000 may not call RestoreAll: it needs root (no --admin-gid is set); --read-gid only allows "
     "reading"},

    /* admin group: everything, admin implies read */
    {"admin may restore", &both, UNIX(1000, g_admin), M_RESTORE_ALL, false, RD_ACCESS_OK, NULL},
    {"admin may handle", &admin_only, UNIX(1000, g_admin), M_HANDLE, false, RD_ACCESS_OK, NULL},
    {"admin may list without read group", &admin_only, UNIX(1000, g_admin), M_LIST, false, RD_ACCESS_OK,
     NULL},
    {"admin may watch health", &both, UNIX(1000, g_admin), M_HEALTH_WATCH, false, RD_ACCESS_OK, NULL},
    {"member of both may restore", &both, UNIX(1000, g_both), M_RESTORE_ALL, false, RD_ACCESS_OK, NULL},

    /* anyone else */
    {"stranger may not list", &both, UNIX(1000, g_user), M_LIST, false, RD_ACCESS_PERMISSION_DENIED,
     "uid 1000 may not call ListRestored: it needs root, group 991 (--read-gid) or group 990 "
     "(--admin-gid)"},
    {"stranger may not list, read group only", &read_only, UNIX(1000, g_user), M_LIST, false,
     RD_ACCESS_PERMISSION_DENIED,
     "uid 1000 may not call ListRestored: it needs root or group 991 (--read-gid)"},
    {"stranger may not list, admin group only", &admin_only, UNIX(1000, g_user), M_LIST, false,
     RD_ACCESS_PERMISSION_DENIED,
     "uid 1000 may not call ListRestored: it needs root or group 990 (--admin-gid)"},
    {"stranger may not list, no groups", &root_only, UNIX(1000, g_user), M_LIST, false,
     RD_ACCESS_PERMISSION_DENIED,
     "uid 1000 may not call ListRestored: it needs root (no --read-gid or --admin-gid is set)"},
    {"stranger may not check health", &both, UNIX(1000, g_user), M_HEALTH_CHECK, false,
     RD_ACCESS_PERMISSION_DENIED,
     "uid 1000 may not call grpc.health.v1.Health/Check: it needs root, group 991 (--read-gid) or "
     "group 990 (--admin-gid)"},
    {"stranger may not restore", &both, UNIX(1000, g_user), M_RESTORE_ALL, false,
     RD_ACCESS_PERMISSION_DENIED,
     "uid 1000 may not call RestoreAll: it needs root or group 990 (--admin-gid)"},
    {"stranger may not restore, root only", &root_only, UNIX(1000, g_user), M_RESTORE_ALL, false,
     RD_ACCESS_PERMISSION_DENIED, "uid 1000 may not call RestoreAll: it needs root (no --admin-gid is set)"},
    {"gid 0 is not uid 0", &root_only, UNIX(1000, g_root), M_RESTORE_ALL, false, RD_ACCESS_PERMISSION_DENIED,
     "uid 1000 may not call RestoreAll: it needs root (no --admin-gid is set)"},
    {"tcp_allow_write does not widen the unix socket", &both, UNIX(1000, g_reader), M_RESTORE_ALL, true,
     RD_ACCESS_PERMISSION_DENIED,
     "uid 1000 may not call RestoreAll: it needs root or group 990 (--admin-gid); --read-gid only "
     "allows reading"},

    /* TCP without --tls-ca: every TLS client reads, nobody writes */
    {"tls client may list", &both, TCP(false), M_LIST, false, RD_ACCESS_OK, NULL},
    {"tls client may watch", &both, TCP(false), M_WATCH, false, RD_ACCESS_OK, NULL},
    {"tls client may reflect", &both, TCP(false), M_REFLECT_V1, false, RD_ACCESS_OK, NULL},
    {"tls client may not restore", &both, TCP(false), M_RESTORE_ALL, false, RD_ACCESS_PERMISSION_DENIED,
     "TCP client ipv4:10.0.0.5:41234 may not call RestoreAll: the TCP listener is read-only "
     "(--listen-allow-write is not set)"},
    {"anonymous tls client may not write even with allow-write", &both, TCP(false), M_HANDLE, true,
     RD_ACCESS_PERMISSION_DENIED,
     "TCP client ipv4:10.0.0.5:41234 may not call HandleContainer: writes over TCP need a client "
     "certificate verified by --tls-ca"},

    /* TCP with --tls-ca: the certificate authenticates */
    {"mtls client may list", &mtls, TCP(true), M_LIST, false, RD_ACCESS_OK, NULL},
    {"mtls client may not restore without allow-write", &mtls, TCP(true), M_RESTORE_ALL, false,
     RD_ACCESS_PERMISSION_DENIED,
     "TCP client ipv4:10.0.0.5:41234 may not call RestoreAll: the TCP listener is read-only "
     "(--listen-allow-write is not set)"},
    {"mtls client may restore with allow-write", &mtls, TCP(true), M_RESTORE_ALL, true, RD_ACCESS_OK, NULL},
    {"mtls client may handle with allow-write", &mtls, TCP(true), M_HANDLE, true, RD_ACCESS_OK, NULL},
    {"unverified client refused when a CA is set", &mtls, TCP(false), M_LIST, false,
     RD_ACCESS_PERMISSION_DENIED,
     "TCP client ipv4:10.0.0.5:41234 may not call ListRestored: --tls-ca requires a verified client "
     "certificate"},
    {"tcp peer uid 0 is not root",
     &mtls,
     {.tcp = true, .tls_verified = true, .uid = 0},
     M_RESTORE_ALL,
     false,
     RD_ACCESS_PERMISSION_DENIED,
     "TCP client (unknown address) may not call RestoreAll: the TCP listener is read-only "
     "(--listen-allow-write is not set)"},
};

START_TEST(access_rule)
{
        char msg[256] = "stale";
        int got = rd_access_check(cases[_i].policy, &cases[_i].peer, cases[_i].method,
                                  cases[_i].tcp_allow_write, msg, sizeof(msg));

        ck_assert_msg(got == cases[_i].want, "%s: got %d, want %d (%s)", cases[_i].rule, got, cases[_i].want,
                      msg);
        if (cases[_i].msg)
                ck_assert_msg(strcmp(msg, cases[_i].msg) == 0, "%s:\n got  \"%s\"\n want \"%s\"",
                              cases[_i].rule, msg, cases[_i].msg);
        else
                ck_assert_msg(msg[0] == '\0', "%s: allowed, yet message \"%s\"", cases[_i].rule, msg);
}
END_TEST

START_TEST(method_classes)
{
        ck_assert_int_eq(rd_method_classify(M_LIST), RD_METHOD_READ);
        ck_assert_int_eq(rd_method_classify(M_WATCH), RD_METHOD_READ);
        ck_assert_int_eq(rd_method_classify(M_HEALTH_CHECK), RD_METHOD_READ);
        ck_assert_int_eq(rd_method_classify(M_REFLECT_V1A), RD_METHOD_READ);
        ck_assert_int_eq(rd_method_classify(M_RESTORE_ALL), RD_METHOD_WRITE);
        ck_assert_int_eq(rd_method_classify(M_HANDLE), RD_METHOD_WRITE);
        /* fail closed: unknown, prefix tricks and NULL need write access */
        ck_assert_int_eq(rd_method_classify(M_UNKNOWN), RD_METHOD_WRITE);
        ck_assert_int_eq(rd_method_classify(M_LIST "X"), RD_METHOD_WRITE);
        ck_assert_int_eq(rd_method_classify("/isula.restore.v1.Restore/listrestored"), RD_METHOD_WRITE);
        ck_assert_int_eq(rd_method_classify(""), RD_METHOD_WRITE);
        ck_assert_int_eq(rd_method_classify(NULL), RD_METHOD_WRITE);
}
END_TEST

START_TEST(message_buffer_is_optional_and_bounded)
{
        const struct rd_peer_info stranger = UNIX(1000, g_user);
        char small[16];

        ck_assert_int_eq(rd_access_check(&both, &stranger, M_RESTORE_ALL, false, NULL, 0),
                         RD_ACCESS_PERMISSION_DENIED);
        ck_assert_int_eq(rd_access_check(&both, &stranger, M_RESTORE_ALL, false, small, sizeof(small)),
                         RD_ACCESS_PERMISSION_DENIED);
        ck_assert_str_eq(small, "uid 1000 may no");
}
END_TEST

/* A socketpair's peer is this very process: its credentials are ours. */
START_TEST(peer_cred_of_a_socketpair_is_our_own)
{
        struct rd_peer_cred c;
        struct rd_peer_info info;
        gid_t mine[256];
        int sv[2], n = getgroups(256, mine);

        ck_assert_int_ge(n, 0);
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        ck_assert_int_eq(rd_peer_cred_from_fd(sv[0], &c), 0);
        ck_assert_int_eq(c.pid, getpid());
        ck_assert_uint_eq(c.uid, geteuid());
        ck_assert_uint_eq(c.gid, getegid());
        ck_assert_uint_ge(c.n_gids, 1);
        ck_assert_uint_eq(c.gids[0], getegid());
        for (int i = 0; i < n; i++) {
                bool found = false;
                for (size_t k = 0; k < c.n_gids; k++)
                        found |= c.gids[k] == mine[i];
                ck_assert_msg(found, "supplementary group %u missing", (unsigned)mine[i]);
        }
        rd_peer_info_from_cred(&c, &info);
        ck_assert(!info.tcp);
        ck_assert_uint_eq(info.uid, c.uid);
        ck_assert_ptr_eq(info.gids, c.gids);
        rd_peer_cred_done(&c);
        rd_peer_cred_done(&c);
        ck_assert_ptr_null(c.gids);
        close(sv[0]);
        close(sv[1]);
}
END_TEST

START_TEST(peer_cred_of_a_non_socket_fails)
{
        struct rd_peer_cred c = {.uid = 42};
        int p[2];

        ck_assert_int_eq(pipe(p), 0);
        ck_assert_int_lt(rd_peer_cred_from_fd(p[0], &c), 0);
        ck_assert_uint_eq(c.uid, 42); /* untouched on failure */
        close(p[0]);
        close(p[1]);
}
END_TEST

START_TEST(user_groups_put_the_primary_first_and_include_the_user_groups)
{
        gid_t *gids = NULL;
        size_t n = 0;

        /* uid 0 is root in every passwd; root's own group 0 is among its groups. */
        ck_assert_int_eq(rd_user_groups(0, 4242, &gids, &n), 0);
        ck_assert_uint_ge(n, 2);
        ck_assert_uint_eq(gids[0], 4242);
        bool has_zero = false;
        for (size_t i = 0; i < n; i++)
                has_zero |= gids[i] == 0;
        ck_assert(has_zero);
        free(gids);

        /* a uid nobody has in passwd (a container's user) keeps only its primary gid */
        ck_assert_int_eq(rd_user_groups(3999999999u, 777, &gids, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(gids[0], 777);
        free(gids);
}
END_TEST

static Suite *access_suite(void)
{
        Suite *s = suite_create("access");
        TCase *rules = tcase_create("rules");
        TCase *peers = tcase_create("peers");

        tcase_add_loop_test(rules, access_rule, 0, (int)(sizeof(cases) / sizeof(cases[0])));
        tcase_add_test(rules, method_classes);
        tcase_add_test(rules, message_buffer_is_optional_and_bounded);
        tcase_add_test(peers, peer_cred_of_a_socketpair_is_our_own);
        tcase_add_test(peers, peer_cred_of_a_non_socket_fails);
        tcase_add_test(peers, user_groups_put_the_primary_first_and_include_the_user_groups);
        suite_add_tcase(s, rules);
        suite_add_tcase(s, peers);
        return s;
}

int main(void)
{
        return tu_run_suite(access_suite());
}
