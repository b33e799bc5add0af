/* libFuzzer target: the capture JSONL reader (capture.h) on an arbitrary
 * file.  Reading must end (one record or one error per line), and a record
 * read must survive a round trip: written with ec_capture_write and read
 * back, every text and byte field is the same. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emoncrypt/capture.h"

static char round_trip_path[64];

static void remove_round_trip_file(void)
{
    if (round_trip_path[0])
        unlink(round_trip_path);
}

static int same_text(const char *a, const char *b)
{
    /* The writer leaves a NULL field out; the reader gives it back NULL
     * (kind excepted: written as "exchange" when unset). */
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static int same_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    if (an != bn)
        return 0;
    return an == 0 || memcmp(a, b, an) == 0;
}

static void check_round_trip(const ec_capture_record *rec)
{
    if (!round_trip_path[0]) {
        strcpy(round_trip_path, "/tmp/emoncrypt-fuzz-capture-XXXXXX");
        int fd = mkstemp(round_trip_path);
        if (fd < 0)
            abort();
        close(fd);
        atexit(remove_round_trip_file);
    }
    ec_capture_writer *w = NULL;
    char err[256];
    if (ec_capture_open(round_trip_path, NULL, 1, &w, err, sizeof err) != EC_OK)
        abort();
    ec_capture_record copy = *rec;
    if (copy.seq == 0)
        copy.seq = 1; /* 0 would be renumbered by the writer */
    if (ec_capture_write(w, &copy) != EC_OK)
        abort();
    ec_capture_close(w);
    FILE *f = fopen(round_trip_path, "r");
    if (!f)
        abort();
    ec_capture_record back;
    if (ec_capture_read(f, &back, err, sizeof err) != 1) {
        fprintf(stderr, "round trip: the written record does not read back: %s\n", err);
        abort();
    }
    fclose(f);
    int same = back.seq == copy.seq && same_text(back.kind, rec->kind ? rec->kind : "exchange") &&
               same_text(back.remote, rec->remote) && same_text(back.method, rec->method) &&
               same_text(back.path, rec->path) && same_text(back.query, rec->query) &&
               same_bytes(back.body, back.body_len, rec->body, rec->body_len) &&
               back.header_count == rec->header_count && back.has_reply == rec->has_reply &&
               same_text(back.fault, rec->fault) && same_text(back.event, rec->event) &&
               back.failed_count == rec->failed_count;
    for (size_t i = 0; same && i < rec->header_count; i++)
        same = same_text(back.headers[i].name, rec->headers[i].name) &&
               same_text(back.headers[i].value, rec->headers[i].value);
    for (size_t i = 0; same && i < rec->failed_count; i++)
        same = same_text(back.failed[i], rec->failed[i]);
    if (same && rec->has_reply)
        same = back.reply_status == rec->reply_status &&
               same_bytes(back.reply_body, back.reply_body_len, rec->reply_body,
                          rec->reply_body_len) &&
               same_text(back.reply_content_type, rec->reply_content_type);
    if (!same) {
        fprintf(stderr, "round trip: a field changed\n");
        abort();
    }
    ec_capture_record_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 1 << 16)
        return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    size_t results = 0;
    for (;;) {
        ec_capture_record rec;
        char err[256];
        err[0] = 0;
        int r = ec_capture_read(f, &rec, err, sizeof err);
        if (r == 0)
            break;
        if (++results > lines)
            abort(); /* more records than lines: the reader does not advance */
        if (r < 0) {
            if (err[0] == 0)
                abort(); /* a bad line is reported with a reason */
            continue;
        }
        if (rec.body != NULL && rec.body[rec.body_len] != 0)
            abort(); /* documented: NUL-terminated on read */
        if (results == 1)
            check_round_trip(&rec);
        ec_capture_record_free(&rec);
    }
    fclose(f);
    return 0;
}
