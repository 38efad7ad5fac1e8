/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for src/proof: the site key files, signing a small MP4 and
 * verifying it, and every single byte of a signed file flipped (each one
 * must fail), cuts at every length, a wrong key. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "proof/key.h"
#include "proof/sign.h"
#include "proof/verify.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/reel-proof-unit-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

static uint8_t *read_file(const char *path, size_t *n)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    uint8_t *p = malloc((size_t)st.st_size);
    int fd = open(path, O_RDONLY);
    assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
    close(fd);
    *n = (size_t)st.st_size;
    return p;
}

/* A tiny MP4-shaped file: ftyp, free, mdat. */
static void make_mp4(const char *path)
{
    uint8_t b[8 + 8 + 8 + 8 + 40];
    size_t o = 0;
    memcpy(b + o, "\0\0\0\x10" "ftypisom\0\0\0\0", 16);
    o += 16;
    memcpy(b + o, "\0\0\0\x08" "free", 8);
    o += 8;
    memcpy(b + o, "\0\0\0\x30" "mdat", 8);
    o += 8;
    for (int i = 0; i < 40; i++)
        b[o++] = (uint8_t)(i * 7);
    write_file(path, b, o);
}

static enum reel_proof_verdict verdict(const char *path, const uint8_t *pk)
{
    struct reel_proof_result res;
    struct reel_err err = { "" };
    int r = reel_proof_verify(path, pk, false, NULL, &res, &err);
    free(res.manifest);
    return r < 0 ? (enum reel_proof_verdict)-1 : res.verdict;
}

static void test_keys(void **state)
{
    (void)state;
    bool made = false;
    struct reel_err err = { "" };
    assert_int_equal(reel_proof_key_ensure(dir, &made, &err), 0);
    assert_true(made);
    assert_int_equal(reel_proof_key_ensure(dir, &made, &err), 0);
    assert_false(made);
    char p[128];
    snprintf(p, sizeof(p), "%s/site.key", dir);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    uint8_t sk[64], pk[32], pub[32];
    assert_int_equal(reel_proof_key_load_secret(dir, sk, pk, &err), 0);
    snprintf(p, sizeof(p), "%s/site.pub", dir);
    assert_int_equal(reel_proof_pub_load(p, pub, &err), 0);
    assert_memory_equal(pk, pub, 32);
    /* one spelling: upper case and wrong lengths are refused */
    char hex[65];
    reel_proof_hex(pk, 32, hex);
    assert_int_equal(reel_proof_pub_parse(hex, pub), 0);
    hex[0] = hex[0] >= 'a' ? (char)(hex[0] - 32) : hex[0];
    if (hex[0] >= 'A' && hex[0] <= 'F')
        assert_int_equal(reel_proof_pub_parse(hex, pub), -EINVAL);
    assert_int_equal(reel_proof_pub_parse("abcd", pub), -EINVAL);
    char fpr[REEL_PROOF_FPR_MAX];
    reel_proof_fingerprint(pk, fpr);
    assert_int_equal(strlen(fpr), 39);
}

static void test_sign_flip_every_byte(void **state)
{
    (void)state;
    char mp4[128], flipped[128];
    snprintf(mp4, sizeof(mp4), "%s/a.mp4", dir);
    snprintf(flipped, sizeof(flipped), "%s/x.mp4", dir);
    make_mp4(mp4);
    struct reel_proof_recording recs[2] = { { 1, "00" }, { 2, "" } };
    struct reel_proof_manifest m = { .site = "unit", .camera = "front", .start90k = 90000, .end90k = 180000,
                                     .recordings = recs, .nrecordings = 2, .frames = 3, .exported_by = "alice",
                                     .exported_ns = 1, .reason = "why" };
    struct reel_err err = { "" };
    assert_int_equal(reel_proof_sign_mp4(dir, mp4, &m, &err), 0);
    assert_int_equal(reel_proof_sign_mp4(dir, mp4, &m, &err), -EEXIST);
    uint8_t sk[64], pk[32];
    assert_int_equal(reel_proof_key_load_secret(dir, sk, pk, &err), 0);
    assert_int_equal(verdict(mp4, pk), REEL_PROOF_VERIFIED);
    size_t n;
    uint8_t *data = read_file(mp4, &n);
    /* the sidecar is beside it; flipped copies have none */
    for (size_t i = 0; i < n; i++) {
        int bit = (int)(i % 8);    /* one bit per byte, a different one each time */
        data[i] ^= (uint8_t)(1u << bit);
        write_file(flipped, data, n);
        data[i] ^= (uint8_t)(1u << bit);
        if (verdict(flipped, pk) == REEL_PROOF_VERIFIED)
            fail_msg("flipping bit %d of byte %zu of %zu still verifies", bit, i, n);
    }
    /* every cut */
    for (size_t len = 0; len < n; len++) {
        write_file(flipped, data, len);
        if (verdict(flipped, pk) == REEL_PROOF_VERIFIED)
            fail_msg("cut to %zu of %zu bytes still verifies", len, n);
    }
    /* another key */
    uint8_t other[32], osk[64];
    crypto_sign_keypair(other, osk);
    assert_int_equal(verdict(mp4, other), REEL_PROOF_WRONG_KEY);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_sign_flip_every_byte),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
