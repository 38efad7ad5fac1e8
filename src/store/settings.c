/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Site-wide settings: one row of table setting per key; see store.h.
 */
#include <errno.h>
#include <string.h>

#include "store/store_int.h"

static bool key_ok(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
            return false;
    }
    return true;
}

struct sqlite3 *reel_store_sqlite(struct reel_store *s) { return s->db; }

int reel_store_setting_get(struct reel_store *s, const char *key, char *buf, size_t cap, struct reel_err *err)
{
    if (cap > 0)
        buf[0] = '\0';
    if (!key_ok(key))
        return reel_err_set(err, EINVAL, "setting name '%s': expected 1-63 of a-z 0-9 _ .", key);
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "SELECT value FROM setting WHERE key = ?", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return reel__db_err(s->db, rc, err, "reading a setting");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    int r;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (n >= cap) {
            r = reel_err_set(err, ENAMETOOLONG, "setting %s: value of %zu bytes over the buffer", key, n);
        } else {
            memcpy(buf, v ? v : "", n);
            buf[n] = '\0';
            r = 0;
        }
    } else if (rc == SQLITE_DONE) {
        r = -ENOENT;
    } else {
        r = reel__db_err(s->db, rc, err, "reading a setting");
    }
    sqlite3_finalize(st);
    return r;
}

int reel_store_setting_set(struct reel_store *s, const char *key, const char *value, struct reel_err *err)
{
    if (!key_ok(key))
        return reel_err_set(err, EINVAL, "setting name '%s': expected 1-63 of a-z 0-9 _ .", key);
    if (value && strlen(value) >= REEL_SETTING_MAX)
        return reel_err_set(err, EINVAL, "setting %s: value over %d bytes", key, REEL_SETTING_MAX - 1);
    sqlite3_stmt *st;
    const char *sql = value ? "INSERT INTO setting (key, value) VALUES (?, ?) "
                              "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                            : "DELETE FROM setting WHERE key = ?";
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return reel__db_err(s->db, rc, err, "writing a setting");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (value)
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : reel__db_err(s->db, rc, err, "writing a setting");
}
