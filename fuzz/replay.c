/*
 * replay.c — a main() for fuzz harnesses in normal builds: feeds every file of the given
 * seed directories (or single files) to LLVMFuzzerTestOneInput once. A crash, sanitizer
 * report or assertion fails the ctest that runs it; an empty corpus is an error too, so a
 * misplaced seed directory cannot pass silently.
 */
#define _GNU_SOURCE
#include "base/alloc.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_FILE_MAX (1u << 20)

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    uint8_t *buf = octo_malloc(REPLAY_FILE_MAX);
    if (buf == NULL) {
        fclose(f);
        return -1;
    }
    size_t n = fread(buf, 1, REPLAY_FILE_MAX, f);
    fclose(f);
    /* copy to an exact-size block so ASan catches reads past the input */
    uint8_t *exact = octo_malloc(n != 0 ? n : 1);
    if (exact == NULL) {
        octo_free(buf);
        return -1;
    }
    memcpy(exact, buf, n);
    octo_free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    octo_free(exact);
    return 0;
}

static int replay_path(const char *path, unsigned *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return replay_file(path);
    }
    DIR *d = opendir(path);
    if (d == NULL) {
        perror(path);
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL && rc == 0) {
        if (e->d_name[0] == '.')
            continue;
        char full[4096];
        snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
        rc = replay_path(full, count);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned count = 0;
    for (int i = 1; i < argc; i++) {
        if (replay_path(argv[i], &count) != 0)
            return 1;
    }
    if (count == 0) {
        fprintf(stderr, "no seed inputs found\n");
        return 1;
    }
    fprintf(stderr, "replayed %u inputs\n", count);
    return 0;
}
