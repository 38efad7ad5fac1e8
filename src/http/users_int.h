/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The accounts connection's layout, shared by the files that implement
 * users.h (users.c: accounts, sessions, tokens; user_access.c: camera lists
 * and TOTP). Nothing else includes it.
 */
#ifndef REEL_HTTP_USERS_INT_H
#define REEL_HTTP_USERS_INT_H

#include <sqlite3.h>

struct reel_users {
    sqlite3 *db;
};

#endif
