/*
 * jsonfile.c - bounded, non-blocking reading and parsing of one JSON file (see jsonfile.h).
 *
 * iSulad reads its container files with util_read_text_file() + yajl_tree_parse(): it follows
 * symlinks, blocks forever on a FIFO and reads a file of any size into memory. restored reads
 * the same files at daemon start over a graph it does not trust, so every one of those is
 * bounded here: one open that cannot block, one fstat, at most one read of at most max_size
 * bytes, and a parser with a depth limit.
 */
#include "jsonfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "cleanup.h"

static void tokener_freep(struct json_tokener **tok)
{
        if (*tok)
                json_tokener_free(*tok);
}

static const char *file_type_name(mode_t mode)
{
        if (S_ISDIR(mode))
                return "directory";
        if (S_ISFIFO(mode))
                return "fifo";
        if (S_ISCHR(mode))
                return "character device";
        if (S_ISBLK(mode))
                return "block device";
        if (S_ISSOCK(mode))
                return "socket";
        if (S_ISLNK(mode))
                return "symbolic link";
        return "unknown file type";
}

static int open_failed(const char *name, int e, rs_reason missing_reason, rs_reason corrupt_reason,
                       struct rs_error *err)
{
        if (e == ENOENT)
                return rs_fail(err, -e, missing_reason, "%s: no such file", name);
        /* O_NOFOLLOW: the last component is a symlink. iSulad would follow it out of the graph. */
        if (e == ELOOP)
                return rs_fail(err, -e, corrupt_reason, "%s: is a symbolic link; refusing to follow", name);
        return rs_fail(err, -e, RS_REASON_IO_ERROR, "%s: %s", name, strerror(e));
}

/* Opens name as a regular file no larger than max_size; never blocks (O_NONBLOCK for FIFOs). */
static int open_regular(int dirfd, const char *name, size_t max_size, rs_reason missing_reason,
                        rs_reason corrupt_reason, int *ret_fd, size_t *ret_size, struct rs_error *err)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return open_failed(name, errno, missing_reason, corrupt_reason, err);
        if (fstat(fd, &st) < 0)
                return rs_fail(err, -errno, RS_REASON_IO_ERROR, "%s: %s", name, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return rs_fail(err, -EBADF, corrupt_reason, "%s: not a regular file (%s)", name,
                               file_type_name(st.st_mode));
        /* Decided from the inode alone, so a huge (or sparse) file fails without being read. */
        if ((uintmax_t)st.st_size > max_size)
                return rs_fail(err, -EFBIG, RS_REASON_TOO_LARGE,
                               "%s: file is %jd bytes, over the %zu-byte limit", name, (intmax_t)st.st_size,
                               max_size);
        *ret_fd = TAKE_FD(fd);
        *ret_size = (size_t)st.st_size;
        return 0;
}

/*
 * Reads exactly the size fstat reported. iSulad replaces its files by rename, so the inode we
 * opened does not grow; a file that shrinks under us yields a short buffer that fails to parse.
 */
static int read_sized(int fd, const char *name, size_t size, char **ret_buf, size_t *ret_len,
                      struct rs_error *err)
{
        _cleanup_free_ char *buf = malloc(size + 1);
        size_t len = 0;

        if (!buf)
                return rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, "%s: out of memory", name);
        while (len < size) {
                ssize_t n = read(fd, buf + len, size - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return rs_fail(err, -errno, RS_REASON_IO_ERROR, "%s: %s", name, strerror(errno));
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        *ret_buf = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int rs_json_read_at(int dirfd, const char *name, size_t max_size, int max_depth, rs_reason missing_reason,
                    rs_reason corrupt_reason, struct json_object **ret_doc, struct rs_error *err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, len = 0;
        int r;

        r = open_regular(dirfd, name, max_size, missing_reason, corrupt_reason, &fd, &size, err);
        if (r < 0)
                return r;
        r = read_sized(fd, name, size, &buf, &len, err);
        if (r < 0)
                return r;
        return rs_json_parse(name, buf, len, max_depth, corrupt_reason, ret_doc, err);
}

int rs_json_read_path(const char *path, size_t max_size, int max_depth, rs_reason missing_reason,
                      rs_reason corrupt_reason, struct json_object **ret_doc, struct rs_error *err)
{
        /* openat() ignores the dir fd for an absolute path, and AT_FDCWD serves a relative one. */
        return rs_json_read_at(AT_FDCWD, path, max_size, max_depth, missing_reason, corrupt_reason, ret_doc,
                               err);
}

static bool is_json_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * json-c cannot know that a top-level scalar ("null", "12") has ended when the input stops
 * right after it and says "continue"; one more blank settles it. Anything still open after
 * that was cut short.
 */
static struct json_object *finish_scalar(struct json_tokener *tok, enum json_tokener_error *jerr)
{
        struct json_object *doc = json_tokener_parse_ex(tok, " ", 1);

        *jerr = json_tokener_get_error(tok);
        if (*jerr != json_tokener_success)
                *jerr = json_tokener_continue;
        return doc;
}

static int parse_failed(const char *name, enum json_tokener_error jerr, size_t at, size_t len, int max_depth,
                        rs_reason corrupt_reason, struct rs_error *err)
{
        if (jerr == json_tokener_continue)
                return rs_fail(err, -EBADMSG, corrupt_reason, "%s: unexpected end of input at byte %zu",
                               name, len);
        if (jerr == json_tokener_error_depth)
                return rs_fail(err, -E2BIG, RS_REASON_TOO_LARGE, "%s: nesting deeper than %d at byte %zu",
                               name, max_depth, at);
        return rs_fail(err, -EBADMSG, corrupt_reason, "%s: %s at byte %zu", name,
                       json_tokener_error_desc(jerr), at);
}

/* Runs the tokenizer over the whole buffer; *ret_end is where the value ended. */
static int tokenize(const char *name, const char *buf, size_t len, int max_depth, rs_reason corrupt_reason,
                    struct json_object **ret_doc, size_t *ret_end, struct rs_error *err)
{
        _cleanup_(tokener_freep) struct json_tokener *tok = json_tokener_new_ex(max_depth);
        enum json_tokener_error jerr;
        struct json_object *doc;
        size_t end;

        if (!tok)
                return rs_fail(err, -ENOMEM, RS_REASON_INTERNAL, "%s: out of memory", name);
        /* Closest json-c gets to yajl, iSulad's parser: no trailing commas, comments or leading
         * zeros, and strings must be UTF-8. Trailing bytes are checked below, with an offset. */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
                                        JSON_TOKENER_VALIDATE_UTF8);
        doc = json_tokener_parse_ex(tok, buf, (int)len);
        jerr = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        if (jerr == json_tokener_continue) {
                doc = finish_scalar(tok, &jerr);
                end = len;
        }
        if (jerr != json_tokener_success)
                return parse_failed(name, jerr, end, len, max_depth, corrupt_reason, err);
        *ret_doc = doc;
        *ret_end = end;
        return 0;
}

int rs_json_parse(const char *name, const char *buf, size_t len, int max_depth, rs_reason corrupt_reason,
                  struct json_object **ret_doc, struct rs_error *err)
{
        struct json_object *doc = NULL;
        const char *nul;
        size_t end = 0;
        int r;

        /* iSulad writes without fsync: after a power cut a file is often empty or zero-filled. */
        if (len == 0)
                return rs_fail(err, -EBADMSG, corrupt_reason, "%s: empty file", name);
        nul = memchr(buf, '\0', len);
        if (nul)
                return rs_fail(err, -EBADMSG, corrupt_reason, "%s: NUL byte at byte %zu", name,
                               (size_t)(nul - buf));
        if (len > INT_MAX)
                return rs_fail(err, -EFBIG, RS_REASON_TOO_LARGE, "%s: %zu bytes is too large to parse", name,
                               len);
        r = tokenize(name, buf, len, max_depth, corrupt_reason, &doc, &end, err);
        if (r < 0)
                return r;
        while (end < len && is_json_space(buf[end]))
                end++;
        if (end < len) {
                json_object_put(doc);
                return rs_fail(err, -EBADMSG, corrupt_reason, "%s: trailing data at byte %zu", name, end);
        }
        /* None of the files restore reads may be `null`; refusing it here spares every caller a
         * success-with-NULL case. */
        if (!doc)
                return rs_fail(err, -EBADMSG, corrupt_reason, "%s: document is null", name);
        *ret_doc = doc;
        return 0;
}
