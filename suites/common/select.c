/* see select.h */
#include "common/select.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The renamed ids, from suites/ids.txt's "OLD -> NEW" lines (CMakeLists.txt
 * generates the rows): an OLD ending in '/' renames every id under it. */
static const struct {
    const char *old_name, *new_name;
} renames[] = {
#include "ec_renames.inc"
    { NULL, NULL }
};

size_t ec_select_pattern_count(const ec_select *s)
{
    return s->case_count + s->section_count + s->exclude_count;
}

/* id or pattern without "ROLE/" in front. */
static const char *short_form(const ec_select *s, const char *text)
{
    size_t n = s->role ? strlen(s->role) : 0;
    if (n && strncmp(text, s->role, n) == 0 && text[n] == '/')
        return text + n + 1;
    return text;
}

static int case_match(const ec_select *s, const char *pattern, const char *rest)
{
    return fnmatch(short_form(s, pattern), rest, 0) == 0;
}

/* Does the section pattern match a leading part of rest ending at '.', '/'
 * or the end? */
static int section_match(const ec_select *s, const char *pattern, const char *rest)
{
    char pat[256], head[256];
    snprintf(pat, sizeof pat, "%s", short_form(s, pattern));
    size_t pn = strlen(pat);
    while (pn > 0 && pat[pn - 1] == '/')
        pat[--pn] = 0;
    if (!pn)
        return 1;   /* "server/" or "": every id */
    for (size_t k = 1;; k++) {
        if (rest[k] == '.' || rest[k] == '/' || rest[k] == 0) {
            if (k < sizeof head) {
                memcpy(head, rest, k);
                head[k] = 0;
                if (fnmatch(pat, head, 0) == 0)
                    return 1;
            }
        }
        if (rest[k] == 0)
            return 0;
    }
}

typedef int (*pattern_fn)(const ec_select *s, const char *pattern, const char *rest);

/* Does fn match pattern to id, or to a name id had before a rename
 * (renames of renames followed to a depth of 8)? */
static int match_names(const ec_select *s, pattern_fn fn, const char *pattern, const char *id, int depth)
{
    if (fn(s, pattern, short_form(s, id)))
        return 1;
    if (depth >= 8)
        return 0;
    for (size_t i = 0; renames[i].old_name; i++) {
        const char *o = renames[i].old_name, *n = renames[i].new_name;
        size_t nn = strlen(n);
        char old_id[512];
        int w;
        if (nn && n[nn - 1] == '/' && strncmp(id, n, nn) == 0)
            w = snprintf(old_id, sizeof old_id, "%s%s", o, id + nn);
        else if (strcmp(id, n) == 0)
            w = snprintf(old_id, sizeof old_id, "%s", o);
        else
            continue;
        if (w < 0 || (size_t)w >= sizeof old_id)
            continue;   /* no published id is that long: a cut name must not match */
        if (match_names(s, fn, pattern, old_id, depth + 1))
            return 1;
    }
    return 0;
}

int ec_select_match(const ec_select *s, const char *id, unsigned char *hits)
{
    const char *rest = short_form(s, id);
    if (!*rest)
        return 0;
    int in = s->case_count == 0 && s->section_count == 0;
    size_t h = 0;
    for (size_t i = 0; i < s->case_count; i++, h++)
        if (match_names(s, case_match, s->cases[i], id, 0)) {
            in = 1;
            if (hits)
                hits[h] = 1;
        }
    for (size_t i = 0; i < s->section_count; i++, h++)
        if (match_names(s, section_match, s->sections[i], id, 0)) {
            in = 1;
            if (hits)
                hits[h] = 1;
        }
    int out = 0;
    for (size_t i = 0; i < s->exclude_count; i++, h++)
        if (match_names(s, case_match, s->excludes[i], id, 0) ||
            match_names(s, section_match, s->excludes[i], id, 0)) {
            out = 1;
            if (hits)
                hits[h] = 1;
        }
    return in && !out;
}

int ec_select_unmatched(const ec_select *s, const unsigned char *hits, char *err, size_t cap)
{
    size_t h = 0;
    const char *what = NULL, *pattern = NULL;
    for (size_t i = 0; i < s->case_count && !what; i++, h++)
        if (!hits[h])
            what = "--case", pattern = s->cases[i];
    for (size_t i = 0; i < s->section_count && !what; i++, h++)
        if (!hits[h])
            what = "--section", pattern = s->sections[i];
    for (size_t i = 0; i < s->exclude_count && !what; i++, h++)
        if (!hits[h])
            what = "--exclude", pattern = s->excludes[i];
    if (!what)
        return 0;
    snprintf(err, cap, "%s '%.200s' matches no case (--list shows the ids)", what, pattern);
    return -1;
}

int ec_select_add(ec_select *s, ec_select_kind kind, const char *pattern)
{
    const char ***list = kind == EC_SELECT_CASE ? &s->cases : kind == EC_SELECT_SECTION ? &s->sections : &s->excludes;
    size_t *count = kind == EC_SELECT_CASE      ? &s->case_count
                    : kind == EC_SELECT_SECTION ? &s->section_count
                                                : &s->exclude_count;
    const char **grown = realloc(*list, (*count + 1) * sizeof **list);
    if (!grown)
        return -1;
    grown[(*count)++] = pattern;
    *list = grown;
    return 0;
}

void ec_select_free(ec_select *s)
{
    free(s->cases);
    free(s->sections);
    free(s->excludes);
    s->cases = s->sections = s->excludes = NULL;
    s->case_count = s->section_count = s->exclude_count = 0;
}
