/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The route lookup of the HTTP API (see route.h): a request path, split and
 * percent-decoded segment by segment, against a table of patterns. Pure: no
 * socket, no allocation; unit tested in tests/unit/test_http.c.
 */
#include "http/route.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Does pattern match segs[0..n)? On a match, *ret_literals counts its
 * literal segments and *ret_param the index of its parameter (-1 if none),
 * whose label is copied into label. */
static bool pattern_match(const char *pat, char (*segs)[REEL_HTTP_SEG_MAX], int n, int *ret_literals,
                          int *ret_param, char *label, size_t label_cap)
{
    int i = 0, literals = 0, param = -1;
    const char *p = pat;
    if (*p != '/')
        return false;
    while (*p == '/') {
        p++;
        size_t len = strcspn(p, "/");
        if (i >= n)
            return false;
        if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {
            if (segs[i][0] == '\0')
                return false;
            param = i;
            snprintf(label, label_cap, "%.*s", (int)(len - 2), p + 1);
        } else {
            if (strlen(segs[i]) != len || memcmp(segs[i], p, len) != 0)
                return false;
            literals++;
        }
        i++;
        p += len;
    }
    if (i != n)
        return false;
    *ret_literals = literals;
    *ret_param = param;
    return true;
}

static bool method_matches(const char *route_method, const char *method)
{
    if (strcmp(route_method, method) == 0)
        return true;
    return strcmp(route_method, "GET") == 0 && strcmp(method, "HEAD") == 0;
}

static void allow_add(char *allow, size_t cap, const char *m)
{
    size_t used = strlen(allow);
    if (strstr(allow, m))
        return;
    snprintf(allow + used, cap - used, "%s%s", used ? ", " : "", m);
}

enum reel_http_route_result reel_http_route_find(const struct reel_http_route *table, size_t n, const char *method,
                                                 const char *path, struct reel_http_match *ret)
{
    memset(ret, 0, sizeof(*ret));
    int ns = reel_http_path_split(path, ret->segs, REEL_HTTP_SEGS_MAX);
    if (ns < 0) {
        ret->nsegs = 0;
        ret->status = ns == -E2BIG || ns == -EMSGSIZE ? 404 : 400;
        ret->access = REEL_ACCESS_PUBLIC;
        return ret->result = REEL_ROUTE_BAD_PATH;
    }
    ret->nsegs = ns;
    /* The best shape: the most literal segments among matching patterns. */
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        int lit, param;
        char label[sizeof(ret->label)];
        if (pattern_match(table[i].pattern, ret->segs, ns, &lit, &param, label, sizeof(label)) && lit > best)
            best = lit;
    }
    if (best < 0) {
        ret->access = REEL_ACCESS_USER;
        return ret->result = REEL_ROUTE_NOT_FOUND;
    }
    enum reel_http_access least = REEL_ACCESS_ADMIN;
    for (size_t i = 0; i < n; i++) {
        int lit, param;
        char label[sizeof(ret->label)];
        if (!pattern_match(table[i].pattern, ret->segs, ns, &lit, &param, label, sizeof(label)) || lit != best)
            continue;
        if (table[i].access < least)
            least = table[i].access;
        if (strcmp(table[i].method, "GET") == 0) {
            allow_add(ret->allow, sizeof(ret->allow), "GET");
            allow_add(ret->allow, sizeof(ret->allow), "HEAD");
        } else {
            allow_add(ret->allow, sizeof(ret->allow), table[i].method);
        }
        if (ret->route || !method_matches(table[i].method, method))
            continue;
        ret->route = &table[i];
        ret->access = table[i].access;
        if (param >= 0) {
            snprintf(ret->name, sizeof(ret->name), "%s", ret->segs[param]);
            snprintf(ret->label, sizeof(ret->label), "%s", label);
        }
    }
    if (!ret->route) {
        ret->access = least;
        return ret->result = REEL_ROUTE_BAD_METHOD;
    }
    if (ret->label[0] && !reel_http_name_valid(ret->name))
        return ret->result = REEL_ROUTE_BAD_NAME;
    return ret->result = REEL_ROUTE_FOUND;
}
