/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The certificate and key of `reel run --tls`: the user's files checked, or
 * a self-signed pair made once and kept in the data directory; see tls.h.
 * OpenSSL's libcrypto does the parsing, key generation and signing.
 */
#include "http/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "http/parse.h"

#define SAN_MAX 4096

/* OpenSSL's last error as text (and its queue emptied). */
static const char *ssl_reason(char *buf, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0)
        snprintf(buf, cap, "unknown libcrypto error");
    else
        ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
    return buf;
}

/* Reads path (a regular file of at most REEL_TLS_FILE_MAX bytes) into a
 * NUL-terminated malloc'd buffer (the caller's; a key is to be zeroed).
 * With nofollow a symbolic link is refused. *ret_st gets its status. */
static int read_file(const char *path, bool nofollow, char **ret, size_t *ret_len, struct stat *ret_st,
                     struct reel_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0)
        return reel_err_set(err, errno, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return reel_err_set(err, e, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return reel_err_set(err, EINVAL, "%s: not a regular file", path);
    }
    if (st.st_size > REEL_TLS_FILE_MAX) {
        close(fd);
        return reel_err_set(err, EFBIG, "%s: larger than %d bytes", path, REEL_TLS_FILE_MAX);
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return reel_err_set(err, ENOMEM, "out of memory");
    }
    while (len + 1 < cap) {
        ssize_t k = read(fd, buf + len, cap - 1 - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            OPENSSL_cleanse(buf, cap);
            free(buf);
            close(fd);
            return reel_err_set(err, e, "%s: %s", path, strerror(e));
        }
        if (k == 0)
            break;
        len += (size_t)k;
    }
    close(fd);
    buf[len] = '\0';
    *ret = buf;
    *ret_len = len;
    if (ret_st)
        *ret_st = st;
    return 0;
}

/* The contents of a memory BIO as a malloc'd NUL-terminated string. */
static char *bio_string(BIO *b)
{
    char *p;
    long n = BIO_get_mem_data(b, &p);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    memcpy(s, p, (size_t)n);
    s[n] = '\0';
    return s;
}

static void fingerprint(X509 *x, char out[REEL_TLS_FINGERPRINT_MAX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    out[0] = '\0';
    if (!X509_digest(x, EVP_sha256(), md, &len))
        return;
    size_t o = 0;
    for (unsigned i = 0; i < len && o + 4 <= REEL_TLS_FINGERPRINT_MAX; i++)
        o += (size_t)snprintf(out + o, REEL_TLS_FINGERPRINT_MAX - o, i ? ":%02X" : "%02X", md[i]);
}

static int64_t not_after(X509 *x)
{
    struct tm tm;
    if (!ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm))
        return 0;
    return (int64_t)timegm(&tm);
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* Parses every certificate of a PEM text (at least one) and the key, checks
 * that the key belongs to the first, and fills ret with both written anew.
 * what names the source in errors. */
static int pair_from_pem(struct reel_tls_pair *ret, const char *cert_txt, size_t cert_len, const char *key_txt,
                         size_t key_len, const char *cert_what, const char *key_what, struct reel_err *err)
{
    char why[256];
    int r = 0;
    X509 *leaf = NULL;
    EVP_PKEY *pk = NULL;
    BIO *out_c = BIO_new(BIO_s_mem()), *out_k = BIO_new(BIO_s_mem());
    BIO *in_c = BIO_new_mem_buf(cert_txt, (int)cert_len), *in_k = BIO_new_mem_buf(key_txt, (int)key_len);
    if (!out_c || !out_k || !in_c || !in_k) {
        r = reel_err_set(err, ENOMEM, "out of memory");
        goto out;
    }
    ERR_clear_error();
    size_t ncerts = 0;
    for (;;) {
        X509 *x = PEM_read_bio_X509(in_c, NULL, NULL, NULL);
        if (!x)
            break;
        if (!PEM_write_bio_X509(out_c, x)) {
            X509_free(x);
            r = reel_err_set(err, ENOMEM, "out of memory");
            goto out;
        }
        if (!leaf)
            leaf = x;
        else
            X509_free(x);
        ncerts++;
    }
    /* the loop ends at the end of the text (PEM_R_NO_START_LINE) or at a
     * certificate that does not parse */
    unsigned long e = ERR_peek_last_error();
    if (ncerts == 0 || (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE))) {
        r = reel_err_set(err, EINVAL, "%s: %s", cert_what,
                         ncerts == 0 && (!e || ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
                             ? "no PEM certificate (-----BEGIN CERTIFICATE-----) in it"
                             : ssl_reason(why, sizeof(why)));
        goto out;
    }
    ERR_clear_error();
    /* no passphrase: an encrypted key fails (never a prompt on the terminal) */
    pk = PEM_read_bio_PrivateKey(in_k, NULL, no_passphrase, NULL);
    if (!pk) {
        e = ERR_peek_last_error();
        bool none = !e || ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
        bool enc = strstr(key_txt, "ENCRYPTED") != NULL;
        r = reel_err_set(err, EINVAL, "%s: %s", key_what,
                         enc    ? "the key is encrypted; give it without a passphrase (openssl pkey -in K -out K2)"
                         : none ? "no PEM private key (-----BEGIN PRIVATE KEY-----) in it"
                                : ssl_reason(why, sizeof(why)));
        goto out;
    }
    if (X509_check_private_key(leaf, pk) != 1) {
        ERR_clear_error();
        r = reel_err_set(err, EINVAL, "%s does not belong to the certificate in %s", key_what, cert_what);
        goto out;
    }
    if (!PEM_write_bio_PrivateKey(out_k, pk, NULL, NULL, 0, NULL, NULL)) {
        r = reel_err_set(err, ENOMEM, "cannot write the key: %s", ssl_reason(why, sizeof(why)));
        goto out;
    }
    struct reel_tls_pair p = { 0 };
    p.cert_pem = bio_string(out_c);
    p.key_pem = bio_string(out_k);
    if (!p.cert_pem || !p.key_pem) {
        reel_tls_pair_clear(&p);
        r = reel_err_set(err, ENOMEM, "out of memory");
        goto out;
    }
    fingerprint(leaf, p.fingerprint);
    p.not_after_s = not_after(leaf);
    *ret = p;
out:
    /* the key's PEM text in the BIO is freed with it; a memory BIO's
     * buffer is cleansed by BIO_free only for secure memory, so clear it */
    if (out_k) {
        char *kp;
        long kn = BIO_get_mem_data(out_k, &kp);
        if (kn > 0)
            OPENSSL_cleanse(kp, (size_t)kn);
    }
    BIO_free(in_c);
    BIO_free(in_k);
    BIO_free(out_c);
    BIO_free(out_k);
    X509_free(leaf);
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return r;
}

int reel_tls_load(struct reel_tls_pair *ret, const char *cert_path, const char *key_path, struct reel_err *err)
{
    char *c = NULL, *k = NULL;
    size_t cl = 0, kl = 0;
    int r = read_file(cert_path, false, &c, &cl, NULL, err);
    if (r == 0)
        r = read_file(key_path, false, &k, &kl, NULL, err);
    if (r == 0) {
        char cw[300], kw[300];
        snprintf(cw, sizeof(cw), "TLS certificate %s", cert_path);
        snprintf(kw, sizeof(kw), "TLS key %s", key_path);
        r = pair_from_pem(ret, c, cl, k, kl, cw, kw, err);
    }
    free(c);
    if (k) {
        OPENSSL_cleanse(k, kl);
        free(k);
    }
    return r;
}

/* ---- the self-signed pair ---- */

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (!ex)
        return -1;
    int ok = X509_add_ext(x, ex, -1);
    X509_EXTENSION_free(ex);
    return ok ? 0 : -1;
}

/* "DNS:localhost,IP:127.0.0.1,IP:::1,..." for names[0..n) (validated). */
static int san_string(const char *const *names, size_t n, char *out, size_t cap, struct reel_err *err)
{
    size_t o = (size_t)snprintf(out, cap, "DNS:localhost,IP:127.0.0.1,IP:::1");
    for (size_t i = 0; i < n; i++) {
        const char *nm = names[i];
        if (strcmp(nm, "*") == 0)
            continue;
        if (!reel_http_host_name_valid(nm))
            return reel_err_set(err, EINVAL, "'%s' is not a host name for a certificate", nm);
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", nm);
        size_t bl = strlen(buf);
        if (bl > 1 && buf[bl - 1] == '.')
            buf[--bl] = '\0';
        uint8_t a[16];
        bool ip = inet_pton(AF_INET, buf, a) == 1;
        if (strcasecmp(buf, "localhost") == 0 || strcmp(buf, "127.0.0.1") == 0)
            continue;
        int k = snprintf(out + o, cap - o, ",%s:%s", ip ? "IP" : "DNS", buf);
        if (k < 0 || (size_t)k >= cap - o)
            return reel_err_set(err, E2BIG, "too many names for the certificate");
        o += (size_t)k;
    }
    return 0;
}

/* The subject's common name: the first name that fits its 64 bytes, else
 * "localhost" (browsers look at the alternative names only). */
static const char *common_name(const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], "*") != 0 && strlen(names[i]) <= 64)
            return names[i];
    return "localhost";
}

/* A new ECDSA P-256 key and a self-signed certificate for names. */
static int make_pair(struct reel_tls_pair *ret, const char *const *names, size_t n, int64_t now_s,
                     struct reel_err *err)
{
    char san[SAN_MAX], why[256];
    int r = san_string(names, n, san, sizeof(san), err);
    if (r < 0)
        return r;
    ERR_clear_error();
    EVP_PKEY *pk = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    BIGNUM *bn = BN_new();
    BIO *bc = BIO_new(BIO_s_mem()), *bk = BIO_new(BIO_s_mem());
    uint8_t serial[16];
    X509V3_CTX ctx;
    if (!pk || !x || !bn || !bc || !bk || RAND_bytes(serial, sizeof(serial)) != 1) {
        r = reel_err_set(err, ENOMEM, "cannot make a key: %s", ssl_reason(why, sizeof(why)));
        goto out;
    }
    serial[0] &= 0x7f; /* a positive serial number */
    serial[0] |= 0x40; /* of the full length */
    X509_NAME *nm = X509_get_subject_name(x);
    time_t nb = (time_t)(now_s - 86400);
    if (!X509_set_version(x, X509_VERSION_3) || !BN_bin2bn(serial, sizeof(serial), bn) ||
        !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || !ASN1_TIME_set(X509_getm_notBefore(x), nb) ||
        !ASN1_TIME_adj(X509_getm_notAfter(x), (time_t)now_s, REEL_TLS_SELF_DAYS, 0) || !X509_set_pubkey(x, pk) ||
        !X509_NAME_add_entry_by_txt(nm, "O", MBSTRING_ASC, (const unsigned char *)"Reel NVR (self-signed)", -1, -1,
                                    0) ||
        !X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)common_name(names, n), -1, -1,
                                    0) ||
        !X509_set_issuer_name(x, nm)) {
        r = reel_err_set(err, EINVAL, "cannot fill the certificate: %s", ssl_reason(why, sizeof(why)));
        goto out;
    }
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
        add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") < 0 ||
        add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") < 0 ||
        add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
        add_ext(x, &ctx, NID_subject_alt_name, san) < 0) {
        r = reel_err_set(err, EINVAL, "cannot add the certificate's extensions: %s", ssl_reason(why, sizeof(why)));
        goto out;
    }
    if (!X509_sign(x, pk, EVP_sha256()) || !PEM_write_bio_X509(bc, x) ||
        !PEM_write_bio_PrivateKey(bk, pk, NULL, NULL, 0, NULL, NULL)) {
        r = reel_err_set(err, EINVAL, "cannot sign the certificate: %s", ssl_reason(why, sizeof(why)));
        goto out;
    }
    struct reel_tls_pair p = { .created = true };
    p.cert_pem = bio_string(bc);
    p.key_pem = bio_string(bk);
    if (!p.cert_pem || !p.key_pem) {
        reel_tls_pair_clear(&p);
        r = reel_err_set(err, ENOMEM, "out of memory");
        goto out;
    }
    fingerprint(x, p.fingerprint);
    p.not_after_s = not_after(x);
    *ret = p;
out:
    if (bk) {
        char *kp;
        long kn = BIO_get_mem_data(bk, &kp);
        if (kn > 0)
            OPENSSL_cleanse(kp, (size_t)kn);
    }
    BIO_free(bc);
    BIO_free(bk);
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return r;
}

/* Writes data to dir/name as a new file of the given mode (a stale
 * temporary removed first, never followed), synced, then renamed over
 * dir/final. */
static int write_new(const char *dir, const char *tmpname, const char *final, const char *data, mode_t mode,
                     struct reel_err *err)
{
    char tmp[4200], dst[4200];
    snprintf(tmp, sizeof(tmp), "%s/%s", dir, tmpname);
    snprintf(dst, sizeof(dst), "%s/%s", dir, final);
    if (unlink(tmp) < 0 && errno != ENOENT)
        return reel_err_set(err, errno, "%s: cannot remove: %s", tmp, strerror(errno));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return reel_err_set(err, errno, "%s: cannot create: %s", tmp, strerror(errno));
    size_t len = strlen(data), off = 0;
    while (off < len) {
        ssize_t k = write(fd, data + off, len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return reel_err_set(err, e, "%s: cannot write: %s", tmp, strerror(e));
        }
        off += (size_t)k;
    }
    if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return reel_err_set(err, e, "%s: %s", tmp, strerror(e));
    }
    close(fd);
    if (rename(tmp, dst) < 0) {
        int e = errno;
        unlink(tmp);
        return reel_err_set(err, e, "%s: cannot rename to %s: %s", tmp, final, strerror(e));
    }
    return 0;
}

int reel_tls_self_signed(struct reel_tls_pair *ret, const char *datadir, const char *const *names, size_t n,
                         int64_t now_s, struct reel_err *err)
{
    if (n > REEL_TLS_NAMES_MAX)
        return reel_err_set(err, E2BIG, "at most %d names for the certificate", REEL_TLS_NAMES_MAX);
    char cpath[4200], kpath[4200];
    snprintf(cpath, sizeof(cpath), "%s/%s", datadir, REEL_TLS_CERT_FILE);
    snprintf(kpath, sizeof(kpath), "%s/%s", datadir, REEL_TLS_KEY_FILE);
    struct stat kst, cst;
    bool have_k = lstat(kpath, &kst) == 0, have_c = lstat(cpath, &cst) == 0;
    if (have_k && have_c) {
        char *c = NULL, *k = NULL;
        size_t cl = 0, kl = 0;
        int r = read_file(cpath, true, &c, &cl, NULL, err);
        if (r == 0)
            r = read_file(kpath, true, &k, &kl, &kst, err);
        if (r == 0 && (kst.st_mode & 077))
            r = reel_err_set(err, EPERM, "%s: others may read the key (mode %04o): chmod 600 it, or remove both %s "
                             "and %s to make a new pair", kpath, (unsigned)(kst.st_mode & 07777),
                             REEL_TLS_KEY_FILE, REEL_TLS_CERT_FILE);
        if (r == 0 && kst.st_uid != geteuid())
            r = reel_err_set(err, EPERM, "%s: owned by another user (uid %u)", kpath, (unsigned)kst.st_uid);
        if (r == 0)
            r = pair_from_pem(ret, c, cl, k, kl, cpath, kpath, err);
        free(c);
        if (k) {
            OPENSSL_cleanse(k, kl);
            free(k);
        }
        if (r < 0 && r != -ENOMEM && err && !strstr(err->msg, "remove both")) {
            char m[sizeof(err->msg)];
            snprintf(m, sizeof(m), "%s", err->msg);
            reel_err_set(err, -r, "%s (remove both %s and %s to make a new pair)", m, REEL_TLS_KEY_FILE,
                         REEL_TLS_CERT_FILE);
        }
        if (r == 0)
            ret->created = false;
        return r;
    }
    /* none, or half a pair left by a crash: a new one */
    struct reel_tls_pair p;
    int r = make_pair(&p, names, n, now_s, err);
    if (r < 0)
        return r;
    r = write_new(datadir, REEL_TLS_KEY_FILE ".new", REEL_TLS_KEY_FILE, p.key_pem, 0600, err);
    if (r == 0)
        r = write_new(datadir, REEL_TLS_CERT_FILE ".new", REEL_TLS_CERT_FILE, p.cert_pem, 0644, err);
    if (r == 0) {
        int dfd = open(datadir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    if (r < 0) {
        reel_tls_pair_clear(&p);
        return r;
    }
    *ret = p;
    return 0;
}

void reel_tls_pair_clear(struct reel_tls_pair *p)
{
    if (!p)
        return;
    if (p->key_pem) {
        OPENSSL_cleanse(p->key_pem, strlen(p->key_pem));
        free(p->key_pem);
    }
    free(p->cert_pem);
    memset(p, 0, sizeof(*p));
}
