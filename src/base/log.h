/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Logging for the program layer. Library modules (rtsp, rtp, codec, store, mp4)
 * do not log: they return negative errno codes and, where useful, fill a
 * caller-supplied error string (struct reel_err). The daemon and commands turn
 * those into one clear line each with reel_log().
 */
#ifndef REEL_BASE_LOG_H
#define REEL_BASE_LOG_H

#include <stddef.h>

enum reel_log_level { REEL_LOG_DEBUG, REEL_LOG_INFO, REEL_LOG_WARN, REEL_LOG_ERROR };

/* Where log lines go. Not global: each program owns one and passes it down. */
struct reel_logger {
    int fd;                    /* written with one write(2) per line; default 2 */
    enum reel_log_level min;   /* lines below this level are dropped */
};

/* Writes one line. The formatted message is escaped with reel_log_escape(),
 * so text that came from a camera or a client (a user name with a newline,
 * an SDP attribute with a terminal escape sequence) can neither forge a log
 * line nor drive the terminal. Lines are cut at about 1 KiB. */
void reel_log(const struct reel_logger *lg, enum reel_log_level lvl,
              const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Copies the n bytes of s into out (cap bytes, NUL-terminated), writing
 * each control byte (below 0x20, and 0x7f) as "\xNN" and a backslash as two
 * backslashes, so that the result is one printable line and unambiguous. Stops at
 * the last whole character that fits. Returns the length written (without
 * the NUL); 0 when cap is 0. */
size_t reel_log_escape(const char *s, size_t n, char *out, size_t cap);

/* A short human-readable error message filled in by library code next to a
 * negative errno return. Fixed size: never allocates. */
#define REEL_ERR_MAX 256
struct reel_err {
    char msg[REEL_ERR_MAX];
};

/* Formats into err (if non-NULL) and returns -errnum (errnum > 0) so that
 * library code can write `return reel_err_set(err, EPROTO, "bad %s", x);`. */
int reel_err_set(struct reel_err *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
