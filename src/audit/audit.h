/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The audit log: an append-only table `audit` in reel.db whose rows form a
 * hash chain. Each row's hash is BLAKE2b-256 (libsodium
 * crypto_generichash) over the row's canonical encoding (entry.c: a tag,
 * the id and time as 8 big-endian bytes, each text field as a 4-byte
 * big-endian length and its bytes, then the previous row's hash); the
 * first row's previous hash is 32 zero bytes. Ids are consecutive from 1.
 *
 *   entry.c    the canonical encoding and the hash
 *   append.c   adding a row (one BEGIN IMMEDIATE transaction that reads the
 *              last hash: safe with any number of connections, threads and
 *              processes)
 *   verify.c   recomputing the chain; checking a head written down earlier
 *   query.c    reading rows with filters (the CLI, the API, CSV)
 *   csv.c      one row as a CSV line
 *   pbmerge.c  merging playback requests into viewing sessions (pure)
 *   sink.c     the server's writer: one connection, the playback sessions,
 *              their idle flush
 *
 * Layering: uses src/base, src/db, SQLite and libsodium only; the store
 * (retention summaries), the HTTP server and the CLI sit above it. Every
 * function takes the caller's connection (sqlite3 *), used by one thread
 * at a time, outside any transaction of the caller's.
 */
#ifndef REEL_AUDIT_AUDIT_H
#define REEL_AUDIT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "base/log.h"

#define REEL_AUDIT_HASH 32          /* BLAKE2b-256 */
#define REEL_AUDIT_USER_MAX 64      /* each text field's cap in bytes, with the NUL */
#define REEL_AUDIT_VIA_MAX 96
#define REEL_AUDIT_ADDR_MAX 64
#define REEL_AUDIT_ACTION_MAX 48
#define REEL_AUDIT_CAMERA_MAX 64
#define REEL_AUDIT_DETAIL_MAX 16384 /* the detail (JSON text), with the NUL */
#define REEL_AUDIT_LIMIT_MAX 10000  /* rows per query */

/* One row. Strings are never NULL ("" for none); in a query's callback
 * they point into SQLite's memory and live until the callback returns. */
struct reel_audit_rec {
    int64_t id;
    int64_t ts_ns;          /* wall time, ns since the Unix epoch */
    const char *user;       /* the user name ("cli:root" for the CLI, "reel" for the recorder) */
    const char *via;        /* "session", "token:NAME", "cli", "recorder" */
    const char *addr;       /* the client's address, "" when none */
    const char *action;     /* "login", "login.failed", "playback", "camera.change"... */
    const char *camera;     /* a camera's name or "" */
    const char *detail;     /* a JSON object as text ("{}" for none) */
    uint8_t prev[REEL_AUDIT_HASH];
    uint8_t hash[REEL_AUDIT_HASH];
};

/* ---- entry.c ---- */

/* The row's hash over its fields and rec->prev into out. -EINVAL when a
 * field is over its cap. */
int reel_audit_hash(const struct reel_audit_rec *rec, uint8_t out[REEL_AUDIT_HASH]);
/* 64 lowercase hex digits and a NUL. */
void reel_audit_hex(const uint8_t h[REEL_AUDIT_HASH], char out[2 * REEL_AUDIT_HASH + 1]);
/* Parses "ID:HEX" (a head as `reel audit head` prints it). -EINVAL. */
int reel_audit_head_parse(const char *s, int64_t *ret_id, uint8_t ret_hash[REEL_AUDIT_HASH]);

/* ---- append.c ---- */

/* Appends rec (its id, prev and hash are ignored: set here) with ts_ns as
 * given. In one BEGIN IMMEDIATE transaction: reads the last row, sets
 * id = last + 1 and prev = its hash, inserts, commits. *ret_id (NULL ok) the
 * new id. -EINVAL for a field over its cap, -EBUSY when another writer held
 * the database past the busy timeout; src/db's errors otherwise. */
int reel_audit_append(sqlite3 *db, const struct reel_audit_rec *rec, int64_t *ret_id, struct reel_err *err);

/* ---- verify.c ---- */

struct reel_audit_verdict {
    bool ok;
    int64_t entries;                    /* rows checked */
    int64_t bad_id;                     /* the first bad entry (0 when ok) */
    char msg[320];                      /* one line: what is wrong, or "N entries, chain intact" */
    int64_t head_id;                    /* the last entry (0 for an empty log) */
    uint8_t head_hash[REEL_AUDIT_HASH];
};

/* Recomputes the chain in one read transaction. Reports the first entry
 * that was changed, removed or reordered; a log whose tail was cut behind
 * the highest id SQLite handed out (sqlite_sequence) as truncated. With
 * head (an "ID:HEX" written down earlier; NULL for none) also that entry
 * ID still exists and has that hash: proves the log was not rewritten
 * wholesale (recomputed from an edit on) or cut before it. The verdict is
 * in *ret (ok false: msg says what); the return value < 0 only when the
 * database could not be read (or head is malformed: -EINVAL). */
int reel_audit_verify(sqlite3 *db, const char *head, struct reel_audit_verdict *ret, struct reel_err *err);
/* The last entry: *ret_id 0 for an empty log. */
int reel_audit_head(sqlite3 *db, int64_t *ret_id, uint8_t ret_hash[REEL_AUDIT_HASH], struct reel_err *err);

/* ---- query.c ---- */

struct reel_audit_filter {
    int64_t since_ns, until_ns;         /* [since, until); 0 = open */
    const char *user;                   /* exact; NULL = any */
    const char *action;                 /* exact, or a prefix when it ends in '.' ("camera."); NULL = any */
    const char *camera;                 /* exact; NULL = any */
    int64_t before_id;                  /* only ids below (paging, newest first); 0 = none */
    int64_t after_id;                   /* only ids above; 0 = none */
    int64_t limit;                      /* 1..REEL_AUDIT_LIMIT_MAX (0 = the maximum) */
    bool oldest_first;                  /* default newest first */
};

/* Calls fn for each matching row in order; fn returns 0 to go on, > 0 to
 * stop (returned), < 0 to fail (returned). *ret_more (NULL ok): whether
 * more rows matched than the limit. */
int reel_audit_query(sqlite3 *db, const struct reel_audit_filter *f,
                     int (*fn)(const struct reel_audit_rec *rec, void *arg), void *arg, bool *ret_more,
                     struct reel_err *err);

/* ---- csv.c ---- */

/* The CSV header line and one row (RFC 4180 quoting, CRLF ends; a field
 * starting with = + - @ is prefixed with ' against spreadsheet formulas).
 * Appends to out (capped by out's cap). */
#define REEL_AUDIT_CSV_HEADER "id,time,user,via,address,action,camera,detail,hash\r\n"
struct reel_buf;
int reel_audit_csv_row(const struct reel_audit_rec *rec, struct reel_buf *out);

#endif
