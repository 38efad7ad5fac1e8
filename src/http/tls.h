/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The certificate and key of `reel run --tls` (the server itself speaks
 * HTTPS, through libmicrohttpd's GnuTLS), as PEM text to hand to the server
 * (struct reel_http_cfg). Two sources:
 *
 *   - the user's files (`--tls-cert FILE --tls-key FILE`): checked here with
 *     OpenSSL's libcrypto (every certificate parses, the key is not
 *     encrypted and belongs to the first certificate), so that a mistake is
 *     one clear line at start and not a failed handshake later; the PEM is
 *     written anew (certificates in file order, the key as PKCS#8), so
 *     nothing else in the files reaches the server;
 *   - otherwise a self-signed certificate made on the first start and kept
 *     in the data directory (REEL_TLS_CERT_FILE, REEL_TLS_KEY_FILE; the key
 *     mode 0600), reused after: ECDSA P-256 signed with SHA-256, valid from a
 *     day before its creation for REEL_TLS_SELF_DAYS days, with subject
 *     alternative names localhost, 127.0.0.1, ::1 and the names given (the
 *     machine's host name, the `--http-host` names). Each file is written as
 *     a new file (O_CREAT | O_EXCL | O_NOFOLLOW) under a temporary name,
 *     synced, then renamed over the final name: a crash leaves the old pair,
 *     no pair, or a key without its certificate (made anew at the next
 *     start), never a certificate with another key.
 *
 * Either way the certificate's SHA-256 fingerprint ("AB:CD:...", as
 * `openssl x509 -fingerprint -sha256` prints it) is returned so that the
 * program can log it at every start: a user compares it with what the
 * browser shows before accepting a self-signed certificate.
 *
 * Library code: no logging, errors in struct reel_err, time passed in.
 */
#ifndef REEL_HTTP_TLS_H
#define REEL_HTTP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

#define REEL_TLS_CERT_FILE "tls-cert.pem"
#define REEL_TLS_KEY_FILE "tls-key.pem"
#define REEL_TLS_SELF_DAYS 3650
#define REEL_TLS_FILE_MAX (1024 * 1024)   /* a certificate chain or key file larger than this is refused */
#define REEL_TLS_NAMES_MAX 32             /* names given for a self-signed certificate */
#define REEL_TLS_FINGERPRINT_MAX 96       /* 32 bytes as "AB:" each, NUL */

struct reel_tls_pair {
    char *cert_pem;                       /* the certificate, then the rest of its chain; NUL-terminated */
    char *key_pem;                        /* the private key (PKCS#8 PEM); zeroed when cleared */
    char fingerprint[REEL_TLS_FINGERPRINT_MAX];   /* SHA-256 of the first certificate's DER */
    int64_t not_after_s;                  /* the first certificate's end of validity (unix seconds) */
    bool created;                         /* reel_tls_self_signed() made it in this call */
};

/* The user's certificate (PEM, the server's certificate first, then any
 * intermediates) and key (PEM, unencrypted). 0 with *ret filled (the
 * caller's: reel_tls_pair_clear()); -ENOENT, -EACCES etc. when a file
 * cannot be read, -EFBIG over REEL_TLS_FILE_MAX, -EINVAL (with the reason
 * in err) when a file holds no certificate or no key, the key is
 * encrypted, or it does not belong to the certificate. *ret is untouched
 * on failure. */
int reel_tls_load(struct reel_tls_pair *ret, const char *cert_path, const char *key_path, struct reel_err *err);

/* The self-signed pair in datadir: read when both files are there (the key
 * must be a regular file no one but its owner may read, and must belong to
 * the certificate), else made at now_s with names[0..n) (host names or IP
 * addresses; at most REEL_TLS_NAMES_MAX, each checked by
 * reel_http_host_name_valid(); "*" is skipped) and written. 0 with *ret
 * filled (ret->created tells which), or a negative errno with err. */
int reel_tls_self_signed(struct reel_tls_pair *ret, const char *datadir, const char *const *names, size_t n,
                         int64_t now_s, struct reel_err *err);

/* Frees and zeroes; NULL ok, and a cleared pair may be cleared again. */
void reel_tls_pair_clear(struct reel_tls_pair *p);

#endif
