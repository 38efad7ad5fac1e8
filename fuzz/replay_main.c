/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A standalone driver for the fuzz targets, so that every corpus is replayed
 * as an ordinary test with the normal compiler (gcc, no libFuzzer): it calls
 * LLVMFuzzerTestOneInput once for every regular file in the directories (or
 * files) given as arguments, in sorted order. A crash, an abort or a
 * sanitizer report in a target fails the test; so does a missing or empty
 * corpus, or an input over the 1 MiB cap, so a broken path cannot pass
 * silently. Prints the number of inputs run.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_INPUT_MAX (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs the target on one file. 0, or -1 after printing why. */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* One extra byte so that an input over the cap is noticed. */
    uint8_t *buf = malloc(REPLAY_INPUT_MAX + 1);
    if (!buf) {
        fclose(f);
        fprintf(stderr, "replay: %s: out of memory\n", path);
        return -1;
    }
    size_t n = fread(buf, 1, REPLAY_INPUT_MAX + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n > REPLAY_INPUT_MAX) {
        fprintf(stderr, "replay: %s: %s\n", path, bad ? "read error" : "over the 1 MiB cap");
        free(buf);
        return -1;
    }
    /* An exact-size copy, so that ASan sees a read past the input. */
    uint8_t *in = malloc(n ? n : 1);
    if (!in) {
        free(buf);
        fprintf(stderr, "replay: %s: out of memory\n", path);
        return -1;
    }
    memcpy(in, buf, n);
    free(buf);
    (void)LLVMFuzzerTestOneInput(in, n);
    free(in);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file in dir. Returns the count, or -1. */
static long run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, alloc = 0;
    long ret = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == alloc) {
            size_t na = alloc ? alloc * 2 : 64;
            char **nn = realloc(names, na * sizeof(*names));
            if (!nn) {
                ret = -1;
                break;
            }
            names = nn;
            alloc = na;
        }
        size_t l = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(l);
        if (!names[n]) {
            ret = -1;
            break;
        }
        snprintf(names[n], l, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (ret == 0 && n)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (ret >= 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(names[i]) < 0)
                ret = -1;
            else
                ret++;
        }
        free(names[i]);
    }
    free(names);
    if (ret < 0)
        fprintf(stderr, "replay: %s: failed\n", dir);
    return ret;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    long total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        long r;
        if (S_ISDIR(st.st_mode)) {
            r = run_dir(argv[i]);
            if (r == 0) {
                fprintf(stderr, "replay: %s: empty corpus\n", argv[i]);
                return 1;
            }
        } else {
            r = run_file(argv[i]) < 0 ? -1 : 1;
        }
        if (r < 0)
            return 1;
        total += r;
    }
    printf("replay: %ld inputs, no crash\n", total);
    return 0;
}
