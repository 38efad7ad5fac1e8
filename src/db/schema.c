/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The schema of reel.db: the current version as one SQL text, and the
 * ordered list of upgrade steps, one function per version (upgrade_v1_to_v2
 * takes a version-1 database to version 2), run by reel_db_upgrade() in one
 * transaction. To change the schema: bump REEL_DB_VERSION in db.h, edit
 * schema_sql to be the new version, add upgrade_vN_to_vN+1 that takes a
 * version-N database to exactly that schema (same tables, columns in the same
 * order, same indexes: tests/unit/test_db.c compares them), append it to
 * steps[], and say what changed in docs/database.md.
 */
#include "db/db.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Version 4, the current schema. Columns added by an upgrade step come last
 * in their table, where ALTER TABLE ... ADD COLUMN puts them, so that an
 * upgraded database and a new one are alike column for column. */
static const char schema_sql[] =
    "CREATE TABLE storage_dir (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  path TEXT NOT NULL UNIQUE,\n"
    "  uuid TEXT NOT NULL UNIQUE);\n"
    "CREATE TABLE camera (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  url TEXT NOT NULL,\n"
    "  user TEXT NOT NULL DEFAULT '',\n"
    "  password TEXT,\n"
    "  udp INTEGER NOT NULL DEFAULT 0,\n"
    "  retain_bytes INTEGER NOT NULL DEFAULT 0 CHECK (retain_bytes >= 0),\n"
    "  retain_seconds INTEGER NOT NULL DEFAULT 0 CHECK (retain_seconds >= 0),\n"
    "  dir_id INTEGER NOT NULL REFERENCES storage_dir (id),\n"
    "  enabled INTEGER NOT NULL DEFAULT 1,\n"
    "  parent_id INTEGER REFERENCES camera (id),\n"
    "  kind TEXT NOT NULL DEFAULT 'main' CHECK (kind IN ('main', 'sub', 'audio')),\n"
    "  audio INTEGER NOT NULL DEFAULT 0,\n"
    "  allow_redirect INTEGER NOT NULL DEFAULT 0,\n"
    "  allow_basic INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE UNIQUE INDEX camera_parent_kind ON camera (parent_id, kind) WHERE parent_id IS NOT NULL;\n"
    "CREATE TABLE sample_entry (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  width INTEGER NOT NULL,\n"
    "  height INTEGER NOT NULL,\n"
    "  codec_string TEXT NOT NULL,\n"
    "  data BLOB NOT NULL UNIQUE);\n"
    "CREATE TABLE recording (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  camera_id INTEGER NOT NULL REFERENCES camera (id),\n"
    "  run_id INTEGER NOT NULL DEFAULT 0,\n"
    "  run_index INTEGER NOT NULL DEFAULT 0,\n"
    "  start90k INTEGER NOT NULL DEFAULT 0,\n"
    "  wall_duration90k INTEGER NOT NULL DEFAULT 0,\n"
    "  media_duration90k INTEGER NOT NULL DEFAULT 0,\n"
    "  frames INTEGER NOT NULL DEFAULT 0,\n"
    "  bytes INTEGER NOT NULL DEFAULT 0,\n"
    "  sample_entry_id INTEGER REFERENCES sample_entry (id),\n"
    "  dir_id INTEGER NOT NULL REFERENCES storage_dir (id),\n"
    "  open INTEGER NOT NULL DEFAULT 1,\n"
    "  video_index BLOB NOT NULL DEFAULT x'',\n"
    /* version 4, issue 14 (ac-proof): BLAKE2b-256 of the closed sample file;
     * NULL until hashed, x'' for recordings closed before hashing existed */
    "  blake2b BLOB);\n"
    "CREATE INDEX recording_camera_start ON recording (camera_id, start90k);\n"
    "CREATE TABLE garbage (\n"
    "  dir_id INTEGER NOT NULL,\n"
    "  camera_id INTEGER NOT NULL,\n"
    "  recording_id INTEGER NOT NULL,\n"
    "  PRIMARY KEY (dir_id, recording_id));\n"
    "CREATE TABLE outage (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  camera_id INTEGER NOT NULL REFERENCES camera (id) ON DELETE CASCADE,\n"
    "  start90k INTEGER NOT NULL,\n"
    "  end90k INTEGER,\n"
    "  reason TEXT NOT NULL);\n"
    "CREATE INDEX outage_camera_start ON outage (camera_id, start90k);\n"
    "CREATE TABLE deletion (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  camera_id INTEGER NOT NULL REFERENCES camera (id) ON DELETE CASCADE,\n"
    "  start90k INTEGER NOT NULL,\n"
    "  end90k INTEGER NOT NULL,\n"
    "  reason TEXT NOT NULL);\n"
    "CREATE INDEX deletion_camera_start ON deletion (camera_id, start90k);\n"
    /* web accounts (src/http/users.c): only hashes of passwords and secrets */
    "CREATE TABLE web_user (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  pwhash TEXT NOT NULL,\n"
    "  created_ns INTEGER NOT NULL,\n"
    "  role TEXT NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'operator', 'viewer', 'auditor')),\n"
    /* version 4, ac-roles: cameras_all = 1 sees every camera (else only the
     * rows of web_user_camera; admins and auditors: not used); TOTP */
    "  cameras_all INTEGER NOT NULL DEFAULT 0,\n"
    "  totp_secret BLOB,\n"
    "  totp_pending BLOB,\n"
    "  totp_last_step INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE TABLE web_session (\n"
    "  hash BLOB PRIMARY KEY,\n"
    "  user_id INTEGER NOT NULL REFERENCES web_user (id) ON DELETE CASCADE,\n"
    "  csrf TEXT NOT NULL,\n"
    "  created_ns INTEGER NOT NULL,\n"
    "  last_ns INTEGER NOT NULL);\n"
    /* version 3: a token's name is unique per user; expires_ns (0 = only the
     * server's maximum lifetime applies) */
    "CREATE TABLE web_token (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL,\n"
    "  hash BLOB NOT NULL UNIQUE,\n"
    "  user_id INTEGER NOT NULL REFERENCES web_user (id) ON DELETE CASCADE,\n"
    "  created_ns INTEGER NOT NULL,\n"
    "  last_ns INTEGER NOT NULL DEFAULT 0,\n"
    "  expires_ns INTEGER NOT NULL DEFAULT 0,\n"
    "  UNIQUE (user_id, name));\n"
    /* version 4, issue 13 (timeline, exports): tables below this line */
    /* tl-data: the timeline's reads of recordings without their index blobs
     * (the span cache's seed, the recordings list, init.mp4's check) come
     * from this covering index instead of the table's ~5 KB rows */
    "CREATE INDEX recording_span ON recording (camera_id, start90k, wall_duration90k, run_id, open, frames, "
    "sample_entry_id, bytes);\n"
    /* version 4: site-wide settings (key = value; store/settings.c, docs/database.md) */
    "CREATE TABLE setting (\n"
    "  key TEXT PRIMARY KEY,\n"
    "  value TEXT NOT NULL);\n"
    /* tl-media: export jobs (src/export/export.c; docs/exports.md). cameras is a
     * JSON array of names; status running|done|failed; sha256 hex or NULL. */
    "CREATE TABLE export (\n"
    "  id TEXT PRIMARY KEY,\n"
    "  user_id INTEGER NOT NULL REFERENCES web_user (id) ON DELETE CASCADE,\n"
    "  cameras TEXT NOT NULL,\n"
    "  start90k INTEGER NOT NULL,\n"
    "  end90k INTEGER NOT NULL,\n"
    "  reason TEXT NOT NULL DEFAULT '',\n"
    "  created_ns INTEGER NOT NULL,\n"
    "  status TEXT NOT NULL,\n"
    "  progress REAL NOT NULL DEFAULT 0,\n"
    "  bytes INTEGER NOT NULL DEFAULT 0,\n"
    "  file TEXT NOT NULL DEFAULT '',\n"
    "  error TEXT,\n"
    "  sha256 TEXT,\n"
    "  signed INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE INDEX export_created ON export (created_ns);\n"
    /* version 4, issue 14 (accountability): tables below this line */
    ""
    /* ac-roles: the cameras an operator or viewer may see (src/http/user_access.c) */
    "CREATE TABLE web_user_camera (\n"
    "  user_id INTEGER NOT NULL REFERENCES web_user (id) ON DELETE CASCADE,\n"
    "  camera_id INTEGER NOT NULL REFERENCES camera (id) ON DELETE CASCADE,\n"
    "  PRIMARY KEY (user_id, camera_id));\n"
    /* ac-proof: the recordings the recorder's hasher has still to hash */
    "CREATE INDEX recording_unhashed ON recording (id) WHERE blake2b IS NULL;\n"
    /* ac-audit: the audit log, a hash chain (src/audit/, docs/accountability.md):
     * each row's hash is BLAKE2b-256 over its canonical encoding and prev, the
     * hash of the row before (id - 1; 32 zero bytes for id 1) */
    "CREATE TABLE audit (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  ts_ns INTEGER NOT NULL,\n"
    "  user TEXT NOT NULL,\n"
    "  via TEXT NOT NULL,\n"
    "  addr TEXT NOT NULL,\n"
    "  action TEXT NOT NULL,\n"
    "  camera TEXT NOT NULL,\n"
    "  detail TEXT NOT NULL,\n"
    "  prev BLOB NOT NULL,\n"
    "  hash BLOB NOT NULL);\n"
    "CREATE INDEX audit_ts ON audit (ts_ns);\n"
    /* ac-audit: the disclosure log (who was given which export, when, why) */
    "CREATE TABLE disclosure (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  created_ns INTEGER NOT NULL,\n"
    "  user TEXT NOT NULL,\n"
    "  date TEXT NOT NULL,\n"
    "  recipient TEXT NOT NULL,\n"
    "  reason TEXT NOT NULL,\n"
    "  export_id TEXT NOT NULL,\n"
    "  export_hash TEXT NOT NULL,\n"
    "  audit_id INTEGER NOT NULL);\n"
    /* ac-lock: evidence locks (store/locks.c): cameras x [start90k, end90k)
     * kept from retention and disk-full deletion until expires_ns (0 = never) */
    "CREATE TABLE evidence_lock (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  start90k INTEGER NOT NULL,\n"
    "  end90k INTEGER NOT NULL CHECK (end90k > start90k),\n"
    "  case_name TEXT NOT NULL,\n"
    "  reason TEXT NOT NULL,\n"
    "  created_by TEXT NOT NULL,\n"
    "  created_ns INTEGER NOT NULL,\n"
    "  expires_ns INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE TABLE evidence_lock_camera (\n"
    "  lock_id INTEGER NOT NULL REFERENCES evidence_lock (id) ON DELETE CASCADE,\n"
    "  camera_id INTEGER NOT NULL REFERENCES camera (id) ON DELETE CASCADE,\n"
    "  PRIMARY KEY (lock_id, camera_id));\n"
    "CREATE INDEX evidence_lock_camera_cam ON evidence_lock_camera (camera_id);\n"
    /* version 4, issue 15 (events): tables below this line */
    /* ev-core: events (src/events/): motion, camera offline, storage and
     * retention trouble; camera_id NULL for site-wide ones; end90k NULL
     * while the event lasts (closed at the next start if Reel stopped) */
    "CREATE TABLE event (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  camera_id INTEGER REFERENCES camera (id) ON DELETE CASCADE,\n"
    "  kind TEXT NOT NULL,\n"
    "  source TEXT NOT NULL,\n"
    "  start90k INTEGER NOT NULL,\n"
    "  end90k INTEGER,\n"
    "  zones TEXT NOT NULL DEFAULT '',\n"
    "  peak INTEGER NOT NULL DEFAULT 0,\n"
    "  detail TEXT NOT NULL DEFAULT '');\n"
    "CREATE INDEX event_camera_start ON event (camera_id, start90k);\n"
    "CREATE INDEX event_start ON event (start90k);\n"
    /* mo-core: each main camera's event settings: motion source, its
     * parameters, zones and masks (JSON), rolls and event retention */
    "CREATE TABLE camera_events (\n"
    "  camera_id INTEGER PRIMARY KEY REFERENCES camera (id) ON DELETE CASCADE,\n"
    "  motion TEXT NOT NULL DEFAULT 'off' CHECK (motion IN ('off', 'decode', 'onvif')),\n"
    "  fps INTEGER NOT NULL DEFAULT 5,\n"
    "  sensitivity INTEGER NOT NULL DEFAULT 50,\n"
    "  min_area REAL NOT NULL DEFAULT 0.5,\n"
    "  pre_roll_s INTEGER NOT NULL DEFAULT 5,\n"
    "  post_roll_s INTEGER NOT NULL DEFAULT 5,\n"
    "  zones TEXT NOT NULL DEFAULT '[]',\n"
    "  event_retain_seconds INTEGER NOT NULL DEFAULT 0 CHECK (event_retain_seconds >= 0),\n"
    "  onvif_xaddr TEXT NOT NULL DEFAULT '',\n"
    "  onvif_user TEXT NOT NULL DEFAULT '',\n"
    "  onvif_password TEXT NOT NULL DEFAULT '');\n"
    /* mo-search: the motion grid, one row per camera and minute (format:
     * src/motion/grid.h) */
    "CREATE TABLE motion_minute (\n"
    "  camera_id INTEGER NOT NULL REFERENCES camera (id) ON DELETE CASCADE,\n"
    "  minute90k INTEGER NOT NULL,\n"
    "  data BLOB NOT NULL,\n"
    "  PRIMARY KEY (camera_id, minute90k)) WITHOUT ROWID;\n"
    /* ev-out: webhooks and their outbox (kept until delivered or expired) */
    "CREATE TABLE webhook (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  url TEXT NOT NULL,\n"
    "  secret TEXT NOT NULL,\n"
    "  kinds TEXT NOT NULL DEFAULT '*',\n"
    "  enabled INTEGER NOT NULL DEFAULT 1,\n"
    "  created_ns INTEGER NOT NULL);\n"
    "CREATE TABLE webhook_outbox (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  webhook_id INTEGER NOT NULL REFERENCES webhook (id) ON DELETE CASCADE,\n"
    "  body TEXT NOT NULL,\n"
    "  created_ns INTEGER NOT NULL,\n"
    "  next_ns INTEGER NOT NULL,\n"
    "  attempts INTEGER NOT NULL DEFAULT 0,\n"
    "  last_error TEXT NOT NULL DEFAULT '');\n"
    "CREATE INDEX webhook_outbox_next ON webhook_outbox (next_ns);\n"
    "";

/* ---- upgrade steps ---- */

/* Runs the statements in order, one at a time, so that an error names the
 * one that failed; stops at the first error. */
static int exec_each(sqlite3 *db, const char *const *sql, size_t n, struct reel_err *err)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++)
        r = reel_db_exec(db, sql[i], err);
    return r;
}

/* 1 -> 2: the account tables become part of the schema (a version-1
 * database has them only if the accounts code ever ran: created here when
 * missing, as version 1's accounts code made them); web_user gains role
 * (existing users become admins: they had every right before); cameras can
 * be disabled (kept, not recorded); a camera's other streams (sub-stream,
 * audio) are rows of their own linked to it by parent_id and kind; the
 * camera_status table goes (the recorder holds live status in memory). */
static int upgrade_v1_to_v2(sqlite3 *db, struct reel_err *err)
{
    static const char *const sql[] = {
        "CREATE TABLE IF NOT EXISTS web_user (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  name TEXT NOT NULL UNIQUE,\n"
        "  pwhash TEXT NOT NULL,\n"
        "  created_ns INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS web_session (\n"
        "  hash BLOB PRIMARY KEY,\n"
        "  user_id INTEGER NOT NULL REFERENCES web_user (id) ON DELETE CASCADE,\n"
        "  csrf TEXT NOT NULL,\n"
        "  created_ns INTEGER NOT NULL,\n"
        "  last_ns INTEGER NOT NULL)",
        "CREATE TABLE IF NOT EXISTS web_token (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  name TEXT NOT NULL UNIQUE,\n"
        "  hash BLOB NOT NULL UNIQUE,\n"
        "  user_id INTEGER NOT NULL REFERENCES web_user (id) ON DELETE CASCADE,\n"
        "  created_ns INTEGER NOT NULL,\n"
        "  last_ns INTEGER NOT NULL DEFAULT 0)",
        ("ALTER TABLE web_user ADD COLUMN role TEXT NOT NULL DEFAULT 'admin' "
         "CHECK (role IN ('admin', 'operator', 'viewer', 'auditor'))"),
        "ALTER TABLE camera ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1",
        "DROP TABLE IF EXISTS camera_status",
        "ALTER TABLE camera ADD COLUMN parent_id INTEGER REFERENCES camera (id)",
        "ALTER TABLE camera ADD COLUMN kind TEXT NOT NULL DEFAULT 'main' CHECK (kind IN ('main', 'sub', 'audio'))",
        "ALTER TABLE camera ADD COLUMN audio INTEGER NOT NULL DEFAULT 0",
        "CREATE UNIQUE INDEX camera_parent_kind ON camera (parent_id, kind) WHERE parent_id IS NOT NULL",
    };
    return exec_each(db, sql, sizeof(sql) / sizeof(sql[0]), err);
}

/* 2 -> 3, the accounts' part (issue 11): API tokens get an expiry
 * (expires_ns; existing tokens get 0: only the server's maximum lifetime,
 * counted from created_ns, ends them) and their names become unique per
 * user instead of across all users. A UNIQUE constraint cannot be changed
 * in place: the table is rebuilt under its own name, rows and ids kept. */
static int upgrade_v3_tokens(sqlite3 *db, struct reel_err *err)
{
    static const char *const sql[] = {
        "ALTER TABLE web_token RENAME TO web_token_v2",
        "CREATE TABLE web_token (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  name TEXT NOT NULL,\n"
        "  hash BLOB NOT NULL UNIQUE,\n"
        "  user_id INTEGER NOT NULL REFERENCES web_user (id) ON DELETE CASCADE,\n"
        "  created_ns INTEGER NOT NULL,\n"
        "  last_ns INTEGER NOT NULL DEFAULT 0,\n"
        "  expires_ns INTEGER NOT NULL DEFAULT 0,\n"
        "  UNIQUE (user_id, name))",
        "INSERT INTO web_token (id, name, hash, user_id, created_ns, last_ns) "
        "SELECT id, name, hash, user_id, created_ns, last_ns FROM web_token_v2",
        "DROP TABLE web_token_v2",
    };
    return exec_each(db, sql, sizeof(sql) / sizeof(sql[0]), err);
}

/* 2 -> 3, the cameras' part (issue 11): the hostile-camera guards'
 * per-camera exceptions, both off: follow a redirect to another host (never
 * with credentials), send the password in Basic after the camera offered
 * Digest. */
static int upgrade_v3_cameras(sqlite3 *db, struct reel_err *err)
{
    static const char *const sql[] = {
        "ALTER TABLE camera ADD COLUMN allow_redirect INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE camera ADD COLUMN allow_basic INTEGER NOT NULL DEFAULT 0",
    };
    return exec_each(db, sql, sizeof(sql) / sizeof(sql[0]), err);
}

/* 2 -> 3: one block per concern (each its own function above). */
static int upgrade_v2_to_v3(sqlite3 *db, struct reel_err *err)
{
    int r = upgrade_v3_tokens(db, err);
    return r < 0 ? r : upgrade_v3_cameras(db, err);
}

/* 3 -> 4: site-wide settings. */
static int upgrade_v4_settings(sqlite3 *db, struct reel_err *err)
{
    return reel_db_exec(db, "CREATE TABLE setting (\n  key TEXT PRIMARY KEY,\n  value TEXT NOT NULL)", err);
}

/* 3 -> 4, tl-media's part of issue 13: export jobs. */
static int upgrade_v4_tl_media(sqlite3 *db, struct reel_err *err)
{
    static const char *const sql[] = {
        "CREATE TABLE export (\n  id TEXT PRIMARY KEY,\n"
        "  user_id INTEGER NOT NULL REFERENCES web_user (id) ON DELETE CASCADE,\n"
        "  cameras TEXT NOT NULL,\n  start90k INTEGER NOT NULL,\n  end90k INTEGER NOT NULL,\n"
        "  reason TEXT NOT NULL DEFAULT '',\n  created_ns INTEGER NOT NULL,\n  status TEXT NOT NULL,\n"
        "  progress REAL NOT NULL DEFAULT 0,\n  bytes INTEGER NOT NULL DEFAULT 0,\n"
        "  file TEXT NOT NULL DEFAULT '',\n  error TEXT,\n  sha256 TEXT,\n"
        "  signed INTEGER NOT NULL DEFAULT 0)",
        "CREATE INDEX export_created ON export (created_ns)",
    };
    return exec_each(db, sql, sizeof(sql) / sizeof(sql[0]), err);
}

/* 3 -> 4, tl-data's part: the covering index of the timeline's reads. */
static int upgrade_v4_tl_data(sqlite3 *db, struct reel_err *err)
{
    return reel_db_exec(db,
                        "CREATE INDEX recording_span ON recording (camera_id, start90k, wall_duration90k, run_id, "
                        "open, frames, sample_entry_id, bytes)",
                        err);
}

/* 3 -> 4, the timeline's part (issue 13). */
static int upgrade_v4_timeline(sqlite3 *db, struct reel_err *err)
{
    int r = upgrade_v4_tl_media(db, err);
    return r < 0 ? r : upgrade_v4_tl_data(db, err);
}

/* 3 -> 4, ac-audit's part of issue 14: the audit and disclosure logs. */
static int upgrade_v4_ac_audit(sqlite3 *db, struct reel_err *err)
{
    static const char *const sql[] = {
        "CREATE TABLE audit (\n  id INTEGER PRIMARY KEY AUTOINCREMENT,\n  ts_ns INTEGER NOT NULL,\n  user TEXT NOT NULL,\n"
        "  via TEXT NOT NULL,\n  addr TEXT NOT NULL,\n  action TEXT NOT NULL,\n  camera TEXT NOT NULL,\n"
        "  detail TEXT NOT NULL,\n  prev BLOB NOT NULL,\n  hash BLOB NOT NULL)",
        "CREATE INDEX audit_ts ON audit (ts_ns)",
        "CREATE TABLE disclosure (\n  id INTEGER PRIMARY KEY,\n  created_ns INTEGER NOT NULL,\n  user TEXT NOT NULL,\n"
        "  date TEXT NOT NULL,\n  recipient TEXT NOT NULL,\n  reason TEXT NOT NULL,\n  export_id TEXT NOT NULL,\n"
        "  export_hash TEXT NOT NULL,\n  audit_id INTEGER NOT NULL)",
    };
    return exec_each(db, sql, sizeof(sql) / sizeof(sql[0]), err);
}

/* 3 -> 4, ac-roles: per-user camera lists and TOTP. Users that exist at
 * the upgrade keep seeing every camera (cameras_all = 1, as before roles
 * had camera lists); users added later see none until given some. */
static int upgrade_v4_ac_roles(sqlite3 *db, struct reel_err *err)
{
    static const char *const sql[] = {
        "ALTER TABLE web_user ADD COLUMN cameras_all INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE web_user ADD COLUMN totp_secret BLOB",
        "ALTER TABLE web_user ADD COLUMN totp_pending BLOB",
        "ALTER TABLE web_user ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0",
        "UPDATE web_user SET cameras_all = 1",
        "CREATE TABLE web_user_camera (\n"
        "  user_id INTEGER NOT NULL REFERENCES web_user (id) ON DELETE CASCADE,\n"
        "  camera_id INTEGER NOT NULL REFERENCES camera (id) ON DELETE CASCADE,\n"
        "  PRIMARY KEY (user_id, camera_id))",
    };
    return exec_each(db, sql, sizeof(sql) / sizeof(sql[0]), err);
}

/* 3 -> 4, ac-proof's part of issue 14: each recording's sample file gets a
 * BLAKE2b-256 hash when it closes (store/hasher.c). Recordings already
 * closed are marked x'' (closed before hashing existed: a hash made now
 * would prove nothing about what was recorded); open ones get theirs when
 * they close or are recovered. */
static int upgrade_v4_ac_proof(sqlite3 *db, struct reel_err *err)
{
    static const char *const sql[] = {
        "ALTER TABLE recording ADD COLUMN blake2b BLOB",
        "UPDATE recording SET blake2b = x'' WHERE open = 0",
        "CREATE INDEX recording_unhashed ON recording (id) WHERE blake2b IS NULL",
    };
    return exec_each(db, sql, sizeof(sql) / sizeof(sql[0]), err);
}

/* 3 -> 4, accountability's part (issue 14). */
/* ac-lock: evidence locks */
static int upgrade_v4_ac_lock(sqlite3 *db, struct reel_err *err)
{
    return reel_db_exec(db,
                        "CREATE TABLE evidence_lock (\n"
                        "  id INTEGER PRIMARY KEY,\n"
                        "  start90k INTEGER NOT NULL,\n"
                        "  end90k INTEGER NOT NULL CHECK (end90k > start90k),\n"
                        "  case_name TEXT NOT NULL,\n"
                        "  reason TEXT NOT NULL,\n"
                        "  created_by TEXT NOT NULL,\n"
                        "  created_ns INTEGER NOT NULL,\n"
                        "  expires_ns INTEGER NOT NULL DEFAULT 0);\n"
                        "CREATE TABLE evidence_lock_camera (\n"
                        "  lock_id INTEGER NOT NULL REFERENCES evidence_lock (id) ON DELETE CASCADE,\n"
                        "  camera_id INTEGER NOT NULL REFERENCES camera (id) ON DELETE CASCADE,\n"
                        "  PRIMARY KEY (lock_id, camera_id));\n"
                        "CREATE INDEX evidence_lock_camera_cam ON evidence_lock_camera (camera_id);\n",
                        err);
}

static int upgrade_v4_accountability(sqlite3 *db, struct reel_err *err)
{
    int r = upgrade_v4_ac_roles(db, err);
    if (r == 0)
        r = upgrade_v4_ac_proof(db, err);
    if (r == 0)
        r = upgrade_v4_ac_audit(db, err);
    return r < 0 ? r : upgrade_v4_ac_lock(db, err);
}

/* 3 -> 4, the events' part (issue 15). */
static int upgrade_v4_events(sqlite3 *db, struct reel_err *err)
{
    static const char *const sql[] = {
        "CREATE TABLE event (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  camera_id INTEGER REFERENCES camera (id) ON DELETE CASCADE,\n"
        "  kind TEXT NOT NULL,\n"
        "  source TEXT NOT NULL,\n"
        "  start90k INTEGER NOT NULL,\n"
        "  end90k INTEGER,\n"
        "  zones TEXT NOT NULL DEFAULT '',\n"
        "  peak INTEGER NOT NULL DEFAULT 0,\n"
        "  detail TEXT NOT NULL DEFAULT '')",
        "CREATE INDEX event_camera_start ON event (camera_id, start90k)",
        "CREATE INDEX event_start ON event (start90k)",
        "CREATE TABLE camera_events (\n"
        "  camera_id INTEGER PRIMARY KEY REFERENCES camera (id) ON DELETE CASCADE,\n"
        "  motion TEXT NOT NULL DEFAULT 'off' CHECK (motion IN ('off', 'decode', 'onvif')),\n"
        "  fps INTEGER NOT NULL DEFAULT 5,\n"
        "  sensitivity INTEGER NOT NULL DEFAULT 50,\n"
        "  min_area REAL NOT NULL DEFAULT 0.5,\n"
        "  pre_roll_s INTEGER NOT NULL DEFAULT 5,\n"
        "  post_roll_s INTEGER NOT NULL DEFAULT 5,\n"
        "  zones TEXT NOT NULL DEFAULT '[]',\n"
        "  event_retain_seconds INTEGER NOT NULL DEFAULT 0 CHECK (event_retain_seconds >= 0),\n"
        "  onvif_xaddr TEXT NOT NULL DEFAULT '',\n"
        "  onvif_user TEXT NOT NULL DEFAULT '',\n"
        "  onvif_password TEXT NOT NULL DEFAULT '')",
        "CREATE TABLE motion_minute (\n"
        "  camera_id INTEGER NOT NULL REFERENCES camera (id) ON DELETE CASCADE,\n"
        "  minute90k INTEGER NOT NULL,\n"
        "  data BLOB NOT NULL,\n"
        "  PRIMARY KEY (camera_id, minute90k)) WITHOUT ROWID",
        "CREATE TABLE webhook (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  name TEXT NOT NULL UNIQUE,\n"
        "  url TEXT NOT NULL,\n"
        "  secret TEXT NOT NULL,\n"
        "  kinds TEXT NOT NULL DEFAULT '*',\n"
        "  enabled INTEGER NOT NULL DEFAULT 1,\n"
        "  created_ns INTEGER NOT NULL)",
        "CREATE TABLE webhook_outbox (\n"
        "  id INTEGER PRIMARY KEY,\n"
        "  webhook_id INTEGER NOT NULL REFERENCES webhook (id) ON DELETE CASCADE,\n"
        "  body TEXT NOT NULL,\n"
        "  created_ns INTEGER NOT NULL,\n"
        "  next_ns INTEGER NOT NULL,\n"
        "  attempts INTEGER NOT NULL DEFAULT 0,\n"
        "  last_error TEXT NOT NULL DEFAULT '')",
        "CREATE INDEX webhook_outbox_next ON webhook_outbox (next_ns)",
    };
    return exec_each(db, sql, sizeof(sql) / sizeof(sql[0]), err);
}

/* 3 -> 4: one block per concern (each its own function above). */
static int upgrade_v3_to_v4(sqlite3 *db, struct reel_err *err)
{
    int r = upgrade_v4_settings(db, err);
    if (r == 0)
        r = upgrade_v4_timeline(db, err);
    if (r == 0)
        r = upgrade_v4_accountability(db, err);
    return r < 0 ? r : upgrade_v4_events(db, err);
}

/* steps[i] takes version i + 1 to i + 2. */
static const struct reel_db_step steps[] = {
    { 1, upgrade_v1_to_v2 },
    { 2, upgrade_v2_to_v3 },
    { 3, upgrade_v3_to_v4 },
};
_Static_assert(sizeof(steps) / sizeof(steps[0]) == REEL_DB_VERSION - 1, "one upgrade step per version");

int reel_db_create(sqlite3 *db, struct reel_err *err)
{
    int r = reel_db_exec(db, schema_sql, err);
    if (r == 0) {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", REEL_DB_VERSION);
        r = reel_db_exec(db, sql, err);
    }
    return r;
}

int reel_db_upgrade(sqlite3 *db, struct reel_err *err)
{
    return reel_db_upgrade_with(db, steps, sizeof(steps) / sizeof(steps[0]), REEL_DB_VERSION, err);
}

int reel_db_upgrade_to(sqlite3 *db, int target, struct reel_err *err)
{
    if (target < 2 || target > REEL_DB_VERSION)
        return reel_err_set(err, EINVAL, "no schema version %d to upgrade to", target);
    return reel_db_upgrade_with(db, steps, (size_t)(target - 1), target, err);
}

static int foreign_key_check(sqlite3 *db, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(db, "PRAGMA foreign_key_check", &st, err);
    if (r < 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        r = reel_err_set(err, EINVAL, "database %s: a row of table %s breaks a foreign key", reel_db_path(db),
                         (const char *)sqlite3_column_text(st, 0));
    else if (rc != SQLITE_DONE)
        r = reel_db_err(db, rc, err, "checking foreign keys");
    sqlite3_finalize(st);
    return r;
}

int reel_db_upgrade_with(sqlite3 *db, const struct reel_db_step *steps_, size_t n, int target,
                         struct reel_err *err)
{
    if (!sqlite3_get_autocommit(db))
        return reel_err_set(err, EBUSY, "database %s: cannot upgrade inside a transaction", reel_db_path(db));
    /* foreign keys cannot be switched inside a transaction: off for the
     * steps (a step may rebuild a table), checked before the commit */
    int r = reel_db_exec(db, "PRAGMA foreign_keys = OFF", err);
    if (r < 0)
        return r;
    r = reel_db_exec(db, "BEGIN IMMEDIATE", err);
    if (r < 0) {
        reel_db_exec(db, "PRAGMA foreign_keys = ON", NULL);
        return r;
    }
    int from = 0;
    r = reel_db_version(db, &from, err);
    int v = from;
    while (r == 0 && v < target) {
        const struct reel_db_step *s = NULL;
        if (n > 0 && v >= steps_[0].from && (size_t)(v - steps_[0].from) < n)
            s = &steps_[v - steps_[0].from];
        if (!s || s->from != v) {
            r = reel_err_set(err, EPROTO, "database %s: no upgrade from schema version %d", reel_db_path(db), v);
            break;
        }
        struct reel_err e2 = { "" };
        r = s->run(db, &e2);
        if (r < 0) {
            reel_err_set(err, -r, "upgrading %s from schema version %d to %d failed at the step from %d "
                         "(nothing changed): %s", reel_db_path(db), from, target, v, e2.msg);
            break;
        }
        v++;
    }
    if (r == 0 && from < target)
        r = foreign_key_check(db, err);
    if (r == 0 && from < target) {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", target);
        r = reel_db_exec(db, sql, err);
    }
    if (r == 0)
        r = reel_db_exec(db, "COMMIT", err);
    if (r < 0)
        reel_db_rollback(db);
    int r2 = reel_db_exec(db, "PRAGMA foreign_keys = ON", r < 0 ? NULL : err);
    return r < 0 ? r : r2;
}
