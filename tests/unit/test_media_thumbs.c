/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The thumbnail cache (src/media/thumbs.c): a pack round-trips, a torn
 * record ends a pack, a symlink is never followed, decode slots are
 * capped, and a cache over its cap deletes the oldest recordings' packs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "media/thumbs.h"

static char root[64];

static int setup(void **state)
{
    (void)state;
    snprintf(root, sizeof(root), "/tmp/reel-thumbs-XXXXXX");
    return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : -1;
}

static struct reel_thumbs *open_cache(uint64_t cap)
{
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/thumbs", root);
    const struct reel_thumbs_cfg cfg = { .dir = dir, .cache_max = cap, .decodes_max = 2 };
    struct reel_thumbs *th;
    struct reel_err err = { "" };
    assert_int_equal(reel_thumbs_new(&th, &cfg, &err), 0);
    return th;
}

static void pack_path(int64_t rec, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/thumbs/7/%016llx.thm", root, (unsigned long long)rec);
}

static void test_roundtrip_and_torn(void **state)
{
    (void)state;
    struct reel_thumbs *th = open_cache(1 << 20);
    char p[256];
    pack_path(1, p, sizeof(p));
    uint8_t a[100], b[200];
    memset(a, 'a', sizeof(a));
    memset(b, 'b', sizeof(b));
    uint8_t *j;
    size_t len;
    assert_int_equal(reel_thumbs_lookup(th, p, 0, 160, &j, &len), -ENOENT);
    assert_int_equal(reel_thumbs_add(th, p, 0, 160, a, sizeof(a)), 0);
    assert_int_equal(reel_thumbs_add(th, p, 5, 160, b, sizeof(b)), 0);
    assert_int_equal(reel_thumbs_lookup(th, p, 5, 160, &j, &len), 0);
    assert_int_equal(len, sizeof(b));
    assert_memory_equal(j, b, sizeof(b));
    free(j);
    assert_int_equal(reel_thumbs_lookup(th, p, 5, 320, &j, &len), -ENOENT);   /* another width */
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* a torn record, then one more: the reader stops at the torn one */
    int fd = open(p, O_WRONLY | O_APPEND);
    assert_true(write(fd, "RTH1\x09\0\0\0", 8) == 8);
    close(fd);
    assert_int_equal(reel_thumbs_add(th, p, 9, 160, a, sizeof(a)), 0);
    assert_int_equal(reel_thumbs_lookup(th, p, 9, 160, &j, &len), -ENOENT);
    assert_int_equal(reel_thumbs_lookup(th, p, 0, 160, &j, &len), 0);
    free(j);
    /* a record claiming a huge JPEG is not believed */
    char q[256];
    pack_path(2, q, sizeof(q));
    fd = open(q, O_WRONLY | O_CREAT, 0600);
    assert_true(write(fd, "RTH1\0\0\0\0\xa0\0\0\0\xff\xff\xff\x7f", 16) == 16);
    close(fd);
    assert_int_equal(reel_thumbs_lookup(th, q, 0, 160, &j, &len), -ENOENT);
    /* a symlink in place of a pack is never followed */
    char l[256], target[256];
    pack_path(3, l, sizeof(l));
    snprintf(target, sizeof(target), "%s/victim", root);
    fd = open(target, O_WRONLY | O_CREAT, 0600);
    close(fd);
    assert_int_equal(symlink(target, l), 0);
    assert_true(reel_thumbs_add(th, l, 0, 160, a, sizeof(a)) < 0);
    assert_int_equal(stat(target, &sb), 0);
    assert_int_equal(sb.st_size, 0);
    unlink(l);
    /* a thumbnail over the cap of one */
    uint8_t *big = calloc(1, REEL_THUMBS_JPEG_MAX + 1);
    assert_int_equal(reel_thumbs_add(th, p, 11, 160, big, REEL_THUMBS_JPEG_MAX + 1), -EMSGSIZE);
    free(big);
    reel_thumbs_free(th);
}

static void test_decode_slots(void **state)
{
    (void)state;
    struct reel_thumbs *th = open_cache(1 << 20);
    assert_int_equal(reel_thumbs_decode_begin(th), 0);
    assert_int_equal(reel_thumbs_decode_begin(th), 0);
    assert_int_equal(reel_thumbs_decode_begin(th), -EBUSY);
    reel_thumbs_decode_end(th);
    assert_int_equal(reel_thumbs_decode_begin(th), 0);
    reel_thumbs_decode_end(th);
    reel_thumbs_decode_end(th);
    reel_thumbs_free(th);
}

static void test_cap_sweeps_oldest(void **state)
{
    (void)state;
    /* 10 packs of 1016 bytes (16-byte header + 1000) under a 6000-byte cap */
    struct reel_thumbs *th = open_cache(6000);
    uint8_t j[1000];
    memset(j, 'x', sizeof(j));
    char p[256];
    int refused = 0;
    for (int64_t rec = 100; rec < 110; rec++) {
        pack_path(rec, p, sizeof(p));
        if (reel_thumbs_add(th, p, 0, 160, j, sizeof(j)) < 0)
            refused++;
        assert_true(reel_thumbs_bytes(th) <= 6000);
    }
    /* the first sweep (at the 6th) brought it under 3/4 of the cap: pack 100 went; later sweeps wait 10 s */
    pack_path(100, p, sizeof(p));
    assert_int_equal(access(p, F_OK), -1);
    pack_path(102, p, sizeof(p));
    assert_int_equal(access(p, F_OK), 0);
    assert_true(refused > 0);
    reel_thumbs_free(th);
    /* a new cache counts what is on disk */
    th = open_cache(6000);
    assert_true(reel_thumbs_bytes(th) > 0 && reel_thumbs_bytes(th) <= 6000);
    reel_thumbs_free(th);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip_and_torn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_slots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_sweeps_oldest, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
