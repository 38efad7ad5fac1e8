/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The site key pair: see key.h.
 */
#include "proof/key.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void reel_proof_hex(const uint8_t *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Exactly 2n lowercase hex digits (anything else, upper case included, is
 * refused: one spelling per key). */
static int unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
    if (len != 2 * n)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return -EINVAL;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return 0;
}

static int read_small(const char *path, char *buf, size_t cap, size_t *ret_len, struct reel_err *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return reel_err_set(err, errno, "cannot open %s: %s", path, strerror(errno));
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0) {
            int e = errno;
            close(fd);
            return reel_err_set(err, e, "cannot read %s: %s", path, strerror(e));
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == cap - 1) {
            close(fd);
            return reel_err_set(err, EFBIG, "%s: over %zu bytes, not a key file", path, cap - 1);
        }
    }
    close(fd);
    buf[len] = '\0';
    *ret_len = len;
    return 0;
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && strchr(" \t\r\n", (*s)[0])) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && strchr(" \t\r\n", (*s)[*len - 1]))
        (*len)--;
}

int reel_proof_pub_parse(const char *text, uint8_t pk[REEL_PROOF_PK_LEN])
{
    size_t len = strlen(text);
    trim(&text, &len);
    return unhex(text, len, pk, REEL_PROOF_PK_LEN);
}

int reel_proof_pub_load(const char *path, uint8_t pk[REEL_PROOF_PK_LEN], struct reel_err *err)
{
    char buf[4096];
    size_t len;
    int r = read_small(path, buf, sizeof(buf), &len, err);
    if (r < 0)
        return r;
    if (reel_proof_pub_parse(buf, pk) < 0)
        return reel_err_set(err, EBADMSG, "%s: not a public key (64 lowercase hex digits)", path);
    return 0;
}

int reel_proof_pub_arg(const char *arg, uint8_t pk[REEL_PROOF_PK_LEN], struct reel_err *err)
{
    if (reel_proof_pub_parse(arg, pk) == 0)
        return 0;
    return reel_proof_pub_load(arg, pk, err);
}

void reel_proof_fingerprint(const uint8_t pk[REEL_PROOF_PK_LEN], char out[REEL_PROOF_FPR_MAX])
{
    uint8_t h[32];
    char hex[65];
    crypto_generichash(h, sizeof(h), pk, REEL_PROOF_PK_LEN, NULL, 0);
    reel_proof_hex(h, 16, hex);
    size_t o = 0;
    for (size_t i = 0; i < 32; i++) {
        if (i > 0 && i % 4 == 0)
            out[o++] = ' ';
        out[o++] = hex[i];
    }
    out[o] = '\0';
}

int reel_proof_key_load_secret(const char *datadir, uint8_t sk[REEL_PROOF_SK_LEN], uint8_t pk[REEL_PROOF_PK_LEN],
                               struct reel_err *err)
{
    char path[PATH_MAX], buf[512];
    if (snprintf(path, sizeof(path), "%s/%s", datadir, REEL_PROOF_KEY_FILE) >= (int)sizeof(path))
        return reel_err_set(err, ENAMETOOLONG, "data directory path too long");
    size_t len;
    int r = read_small(path, buf, sizeof(buf), &len, err);
    if (r < 0)
        return r;
    const char *s = buf;
    trim(&s, &len);
    r = unhex(s, len, sk, REEL_PROOF_SK_LEN);
    sodium_memzero(buf, sizeof(buf));
    if (r < 0)
        return reel_err_set(err, EBADMSG, "%s: not a site key (128 lowercase hex digits)", path);
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    return 0;
}

/* Writes text to dir/name through dir/name.tmp (O_EXCL | O_NOFOLLOW, mode,
 * fsync, rename, directory fsync). */
static int write_file(const char *dir, const char *name, const char *text, mode_t mode, struct reel_err *err)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
        snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name) >= (int)sizeof(tmp))
        return reel_err_set(err, ENAMETOOLONG, "data directory path too long");
    if (unlink(tmp) < 0 && errno != ENOENT)
        return reel_err_set(err, errno, "cannot remove stale %s: %s", tmp, strerror(errno));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return reel_err_set(err, errno, "cannot create %s: %s", tmp, strerror(errno));
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int e = n == (ssize_t)len ? 0 : n < 0 ? errno : EIO;
    if (e == 0 && fchmod(fd, mode) < 0)
        e = errno;
    if (e == 0 && fsync(fd) < 0)
        e = errno;
    if (close(fd) < 0 && e == 0)
        e = errno;
    if (e == 0 && rename(tmp, path) < 0)
        e = errno;
    if (e != 0) {
        unlink(tmp);
        return reel_err_set(err, e, "cannot write %s: %s", path, strerror(e));
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int reel_proof_key_ensure(const char *datadir, bool *ret_created, struct reel_err *err)
{
    if (ret_created)
        *ret_created = false;
    if (sodium_init() < 0)
        return reel_err_set(err, EIO, "libsodium cannot start");
    uint8_t sk[REEL_PROOF_SK_LEN], pk[REEL_PROOF_PK_LEN];
    char hex[2 * REEL_PROOF_SK_LEN + 2];
    char path[PATH_MAX];
    if (snprintf(path, sizeof(path), "%s/%s", datadir, REEL_PROOF_KEY_FILE) >= (int)sizeof(path))
        return reel_err_set(err, ENAMETOOLONG, "data directory path too long");
    struct stat st;
    int r = 0;
    if (lstat(path, &st) < 0) {
        if (errno != ENOENT)
            return reel_err_set(err, errno, "cannot look at %s: %s", path, strerror(errno));
        crypto_sign_keypair(pk, sk);
        reel_proof_hex(sk, sizeof(sk), hex);
        strcat(hex, "\n");
        r = write_file(datadir, REEL_PROOF_KEY_FILE, hex, 0600, err);
        sodium_memzero(hex, sizeof(hex));
        sodium_memzero(sk, sizeof(sk));
        if (r < 0)
            return r;
        if (ret_created)
            *ret_created = true;
        /* a stale site.pub of an older key must not survive */
        char pub[PATH_MAX];
        snprintf(pub, sizeof(pub), "%s/%s", datadir, REEL_PROOF_PUB_FILE);
        unlink(pub);
    } else if (!S_ISREG(st.st_mode)) {
        return reel_err_set(err, EINVAL, "%s is not a regular file", path);
    } else {
        r = reel_proof_key_load_secret(datadir, sk, pk, err);
        sodium_memzero(sk, sizeof(sk));
        if (r < 0)
            return r;
    }
    char pub[PATH_MAX];
    snprintf(pub, sizeof(pub), "%s/%s", datadir, REEL_PROOF_PUB_FILE);
    uint8_t have[REEL_PROOF_PK_LEN];
    struct reel_err e2 = { "" };
    if (reel_proof_pub_load(pub, have, &e2) == 0 && memcmp(have, pk, sizeof(have)) == 0)
        return 0;
    reel_proof_hex(pk, sizeof(pk), hex);
    strcat(hex, "\n");
    return write_file(datadir, REEL_PROOF_PUB_FILE, hex, 0644, err);
}
