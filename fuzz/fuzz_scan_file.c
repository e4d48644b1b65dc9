/* Fuzz target: scan_file over arbitrary bytes held in a memory file, so the
 * whole file path is fuzzed: a plain file is mapped, a gzip one (and any
 * damage to it) is inflated a piece at a time with tiny pieces, so lines,
 * CSV records and Zeek headers fall across piece boundaries everywhere.
 * The first byte picks the format (auto, zeek, json, csv, text) and 1 or 2
 * threads; the rest is the file. */
#define _GNU_SOURCE /* memfd_create */
#include "scan_fuzz.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const scan_format formats[] = {SCAN_FORMAT_AUTO, SCAN_FORMAT_ZEEK, SCAN_FORMAT_JSON,
                                          SCAN_FORMAT_CSV, SCAN_FORMAT_TEXT};
    char path[64];
    scan_stats st = {0};
    match_set *s = fuzz_set(true);
    if (s == NULL || size == 0)
        return 0;
    scan_opts o = {.format = formats[data[0] % 5], .threads = 1u + (data[0] >> 7),
                   .max_line = 512, .piece_bytes = 64};
    int fd = memfd_create("fuzz", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data + 1, size - 1) == (ssize_t)(size - 1)) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        /* a damaged gzip stream is an error, out of memory never is */
        if (scan_file(s, path, &o, sink, NULL, NULL, &st, NULL) == DT_ENOMEM)
            __builtin_trap();
    }
    close(fd);
    return 0;
}
