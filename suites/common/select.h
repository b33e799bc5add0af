/* emoncrypt — which cases a run selects, as Autobahn's fuzzingclient does:
 * --case and --section (repeatable, shell globs), --exclude (repeatable),
 * shared by test-server and test-client.
 *
 * A pattern is matched against the id with or without its role part: for
 * the server role "server/4.auth/missing-header" and "4.auth/missing-header"
 * are the same case, "server/4.auth", "4.auth" and "4" name sections.
 *   --case P      fnmatch(P, id) ('*' also crosses '/')
 *   --section S   S matches a leading part of the id that ends at a '.' or
 *                 '/' ("4" and "4.auth" hold "4.auth/x"; "4.au" does not)
 *   --exclude P   drops every id that P matches as a case or as a section
 * No --case and no --section: every id; else the union of what they match.
 * Every pattern must match at least one id of the run, or the selection is
 * an error (a typo never runs fewer cases in silence). */
#ifndef EMONCRYPT_SELECT_H
#define EMONCRYPT_SELECT_H

#include <stddef.h>

typedef struct {
    const char *role;                   /* "server" or "client" */
    const char **cases;                 /* --case patterns */
    size_t case_count;
    const char **sections;              /* --section patterns */
    size_t section_count;
    const char **excludes;              /* --exclude patterns */
    size_t exclude_count;
} ec_select;

/* How many patterns s has (the size of a hits array). */
size_t ec_select_pattern_count(const ec_select *s);

/* 1 when s selects id.  hits (NULL, or ec_select_pattern_count bytes,
 * zeroed by the caller) gets a 1 for every pattern that matches id. */
int ec_select_match(const ec_select *s, const char *id, unsigned char *hits);

/* After every id of the run went through ec_select_match(s, id, hits):
 * 0 when every pattern matched one, else -1 with one line in err naming
 * the first that matched nothing ("--section '4.nosuch' matches no case"). */
int ec_select_unmatched(const ec_select *s, const unsigned char *hits, char *err, size_t cap);

typedef enum { EC_SELECT_CASE, EC_SELECT_SECTION, EC_SELECT_EXCLUDE } ec_select_kind;

/* Appends pattern (kept as a pointer, e.g. optarg) to s's list of that
 * kind; 0, or -1 when out of memory.  ec_select_free frees the lists. */
int ec_select_add(ec_select *s, ec_select_kind kind, const char *pattern);
void ec_select_free(ec_select *s);

#endif
