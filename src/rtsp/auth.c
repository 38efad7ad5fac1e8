/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * WWW-Authenticate parsing and Authorization building (Digest MD5/SHA-256,
 * Basic). See auth.h.
 */
#include "rtsp/auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "base/strutil.h"

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static bool is_tok(char c) { return c && !is_ws(c) && c != ',' && c != '=' && c != '"'; }

/* Reads a token or quoted string at *s into out (capacity cap). Returns
 * false when it did not fit (the value is still skipped). */
static bool read_value(const char **s, char *out, size_t cap)
{
    const char *p = *s;
    size_t o = 0;
    bool fit = true;
    if (*p == '"') {
        p++;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1])
                p++;
            if (o + 1 < cap)
                out[o++] = *p;
            else
                fit = false;
            p++;
        }
        if (*p == '"')
            p++;
    } else {
        while (*p && !is_ws(*p) && *p != ',') {
            if (o + 1 < cap)
                out[o++] = *p;
            else
                fit = false;
            p++;
        }
    }
    out[o] = '\0';
    *s = p;
    return fit;
}

/* Per-challenge parse state beyond what the struct keeps. */
struct pstate {
    bool is_digest;
    bool bad;            /* unsupported algorithm, over-long value */
    bool qop_present;
    bool have_nonce;
};

static void finish(struct reel_auth_challenge *c, const struct pstate *ps)
{
    if (ps->bad)
        c->scheme = REEL_AUTH_NONE;
    else if (ps->is_digest && (!ps->have_nonce || (ps->qop_present && !c->qop_auth)))
        c->scheme = REEL_AUTH_NONE;
}

static bool list_has(const char *list, const char *item)
{
    size_t il = strlen(item);
    const char *p = list;
    while (*p) {
        while (*p == ',' || is_ws(*p))
            p++;
        const char *e = p;
        while (*e && *e != ',' && !is_ws(*e))
            e++;
        if ((size_t)(e - p) == il && strncasecmp(p, item, il) == 0)
            return true;
        p = e;
    }
    return false;
}

int reel_auth_parse(const char *value, struct reel_auth_challenge *out, size_t cap, size_t *n)
{
    const char *p = value;
    int found = 0;
    struct reel_auth_challenge cur;
    struct pstate ps;
    bool in_ch = false;
    char name[32], val[REEL_AUTH_PARAM_MAX];

    for (;;) {
        while (is_ws(*p) || *p == ',')
            p++;
        if (!*p)
            break;
        const char *t = p;
        while (is_tok(*p))
            p++;
        size_t tlen = (size_t)(p - t);
        const char *q = p;
        while (is_ws(*q))
            q++;
        if (tlen > 0 && *q == '=' && in_ch) {
            /* auth-param */
            p = q + 1;
            while (is_ws(*p))
                p++;
            bool fit = read_value(&p, val, sizeof(val));
            if (tlen >= sizeof(name))
                continue;
            memcpy(name, t, tlen);
            name[tlen] = '\0';
            if (strcasecmp(name, "realm") == 0) {
                ps.bad |= !fit;
                snprintf(cur.realm, sizeof(cur.realm), "%s", val);
            } else if (strcasecmp(name, "nonce") == 0) {
                ps.bad |= !fit;
                snprintf(cur.nonce, sizeof(cur.nonce), "%s", val);
                ps.have_nonce = val[0] != '\0';
            } else if (strcasecmp(name, "opaque") == 0) {
                ps.bad |= !fit;
                snprintf(cur.opaque, sizeof(cur.opaque), "%s", val);
                cur.has_opaque = true;
            } else if (strcasecmp(name, "stale") == 0) {
                cur.stale = strcasecmp(val, "true") == 0;
            } else if (strcasecmp(name, "qop") == 0) {
                ps.qop_present = true;
                cur.qop_auth = list_has(val, "auth");
            } else if (strcasecmp(name, "algorithm") == 0 && ps.is_digest) {
                cur.has_algorithm = true;
                if (strcasecmp(val, "MD5") == 0)
                    cur.scheme = REEL_AUTH_DIGEST_MD5;
                else if (strcasecmp(val, "SHA-256") == 0)
                    cur.scheme = REEL_AUTH_DIGEST_SHA256;
                else
                    ps.bad = true;   /* -sess variants, SHA-512-256: not supported */
            }
            continue;
        }
        if (tlen == 0) {
            /* Stray '=' or quote: skip one value. */
            if (*p == '=')
                p++;
            char junk[8];
            if (*p == '"' )
                read_value(&p, junk, sizeof(junk));
            else if (!*p)
                break;
            else if (p == t)
                p++;
            continue;
        }
        /* A new challenge: scheme token. */
        if (in_ch) {
            finish(&cur, &ps);
            if (*n < cap)
                out[(*n)++] = cur;
            found++;
        }
        memset(&cur, 0, sizeof(cur));
        memset(&ps, 0, sizeof(ps));
        in_ch = true;
        if (tlen == 6 && strncasecmp(t, "Digest", 6) == 0) {
            ps.is_digest = true;
            cur.scheme = REEL_AUTH_DIGEST_MD5;
        } else if (tlen == 5 && strncasecmp(t, "Basic", 5) == 0) {
            cur.scheme = REEL_AUTH_BASIC;
        } else {
            cur.scheme = REEL_AUTH_NONE;
        }
        /* "Scheme token68" form: a bare token (with '=' padding) that is
         * followed by a comma or the end belongs to this challenge. */
        while (is_ws(*p))
            p++;
        const char *e = p;
        while (is_tok(*e))
            e++;
        if (e > p) {
            while (*e == '=')
                e++;
            const char *f = e;
            while (is_ws(*f))
                f++;
            if (*f == ',' || *f == '\0')
                p = f;
        }
    }
    if (in_ch) {
        finish(&cur, &ps);
        if (*n < cap)
            out[(*n)++] = cur;
        found++;
    }
    return found;
}

int reel_auth_choose(const struct reel_auth_challenge *ch, size_t n)
{
    int best = -ENOENT;
    for (size_t i = 0; i < n; i++) {
        if (ch[i].scheme == REEL_AUTH_NONE)
            continue;
        if (best < 0 || ch[i].scheme > ch[best].scheme)
            best = (int)i;
    }
    return best;
}

/* Hex digest of the parts joined by ':' into out (capacity >= 65). */
static int hash_hex(const EVP_MD *md, const char *const *parts, size_t n, char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL);
    for (size_t i = 0; ok && i < n; i++) {
        if (i > 0)
            ok = EVP_DigestUpdate(ctx, ":", 1);
        if (ok)
            ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
    }
    if (ok)
        ok = EVP_DigestFinal_ex(ctx, d, &dl);
    EVP_MD_CTX_free(ctx);
    if (!ok || dl > 32)
        return -EIO;
    reel_hex_encode(d, dl, out);
    return 0;
}

static bool unsafe(const char *s)
{
    return strpbrk(s, "\"\\\r\n") != NULL;
}

int reel_auth_header(const struct reel_auth_challenge *ch, const char *user, const char *password,
                     const char *method, const char *uri, uint32_t nc, const char *cnonce,
                     char *out, size_t cap, struct reel_err *err)
{
    if (!user || !password)
        return reel_err_set(err, EINVAL, "server asks for authentication but no credentials are set");
    if (ch->scheme == REEL_AUTH_BASIC) {
        char plain[2 * REEL_AUTH_PARAM_MAX + 2], b64[4 * REEL_AUTH_PARAM_MAX];
        if (strchr(user, ':'))
            return reel_err_set(err, EINVAL, "user name with ':' cannot use Basic authentication");
        int n = snprintf(plain, sizeof(plain), "%s:%s", user, password);
        if (n < 0 || (size_t)n >= sizeof(plain))
            return reel_err_set(err, EMSGSIZE, "credentials too long");
        int e = reel_base64_encode((const uint8_t *)plain, (size_t)n, b64, sizeof(b64));
        explicit_bzero(plain, sizeof(plain));
        if (e < 0)
            return reel_err_set(err, EMSGSIZE, "credentials too long");
        n = snprintf(out, cap, "Basic %s", b64);
        explicit_bzero(b64, sizeof(b64));
        if (n < 0 || (size_t)n >= cap)
            return reel_err_set(err, EMSGSIZE, "Authorization header too long");
        return n;
    }
    if (ch->scheme != REEL_AUTH_DIGEST_MD5 && ch->scheme != REEL_AUTH_DIGEST_SHA256)
        return reel_err_set(err, EINVAL, "unsupported authentication scheme");
    if (unsafe(user) || unsafe(uri) || unsafe(method) || strlen(user) >= REEL_AUTH_PARAM_MAX ||
        strlen(uri) > 2048)
        return reel_err_set(err, EINVAL, "user name or URI not usable in a Digest header");

    const EVP_MD *md = ch->scheme == REEL_AUTH_DIGEST_SHA256 ? EVP_sha256() : EVP_md5();
    const char *alg = ch->scheme == REEL_AUTH_DIGEST_SHA256 ? "SHA-256" : "MD5";
    char cn[REEL_AUTH_PARAM_MAX], ncs[9], ha1[65], ha2[65], resp[65];
    if (ch->qop_auth) {
        if (cnonce) {
            if (unsafe(cnonce) || strlen(cnonce) >= sizeof(cn))
                return reel_err_set(err, EINVAL, "bad cnonce");
            snprintf(cn, sizeof(cn), "%s", cnonce);
        } else {
            uint8_t rnd[16];
            if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
                return reel_err_set(err, EIO, "getrandom failed for the Digest cnonce");
            reel_hex_encode(rnd, sizeof(rnd), cn);
        }
        snprintf(ncs, sizeof(ncs), "%08x", (unsigned)nc);
    }
    const char *p1[] = { user, ch->realm, password };
    const char *p2[] = { method, uri };
    int e = hash_hex(md, p1, 3, ha1);
    if (e == 0)
        e = hash_hex(md, p2, 2, ha2);
    if (e == 0) {
        if (ch->qop_auth) {
            const char *p3[] = { ha1, ch->nonce, ncs, cn, "auth", ha2 };
            e = hash_hex(md, p3, 6, resp);
        } else {
            const char *p3[] = { ha1, ch->nonce, ha2 };
            e = hash_hex(md, p3, 3, resp);
        }
    }
    explicit_bzero(ha1, sizeof(ha1));
    if (e < 0)
        return reel_err_set(err, EIO, "Digest hash computation failed");

    /* realm, nonce and opaque were unescaped when parsed; they must not
     * break out of their quotes when echoed. */
    if (unsafe(ch->realm) || unsafe(ch->nonce) || unsafe(ch->opaque))
        return reel_err_set(err, EINVAL, "challenge values not usable in a Digest header");
    int n = snprintf(out, cap, "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
                     "response=\"%s\"%s%s",
                     user, ch->realm, ch->nonce, uri, resp,
                     ch->has_algorithm || ch->scheme == REEL_AUTH_DIGEST_SHA256 ? ", algorithm=" : "",
                     ch->has_algorithm || ch->scheme == REEL_AUTH_DIGEST_SHA256 ? alg : "");
    if (n < 0 || (size_t)n >= cap)
        return reel_err_set(err, EMSGSIZE, "Authorization header too long");
    size_t len = (size_t)n;
    if (ch->qop_auth) {
        n = snprintf(out + len, cap - len, ", qop=auth, nc=%s, cnonce=\"%s\"", ncs, cn);
        if (n < 0 || (size_t)n >= cap - len)
            return reel_err_set(err, EMSGSIZE, "Authorization header too long");
        len += (size_t)n;
    }
    if (ch->has_opaque) {
        n = snprintf(out + len, cap - len, ", opaque=\"%s\"", ch->opaque);
        if (n < 0 || (size_t)n >= cap - len)
            return reel_err_set(err, EMSGSIZE, "Authorization header too long");
        len += (size_t)n;
    }
    return (int)len;
}

int reel_auth_fuzz(const uint8_t *p, size_t n)
{
    char s[4096];
    size_t l = n < sizeof(s) - 1 ? n : sizeof(s) - 1;
    memcpy(s, p, l);
    s[l] = '\0';
    struct reel_auth_challenge ch[REEL_AUTH_CHALLENGES_MAX];
    size_t cnt = 0;
    (void)reel_auth_parse(s, ch, REEL_AUTH_CHALLENGES_MAX, &cnt);
    int best = reel_auth_choose(ch, cnt);
    if (best >= 0) {
        char out[REEL_AUTH_HEADER_MAX];
        (void)reel_auth_header(&ch[best], "u", "p", "DESCRIBE", "rtsp://h/x", 1, "abc", out,
                               sizeof(out), NULL);
    }
    return 0;
}
