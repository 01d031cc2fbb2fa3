/*
** test_queries.c — the SQL cookbook (every .sql in examples/queries) runs on real
** traces: every file, read by the sqlite3 CLI with -bail on a read-only
** trace of examples/pinned_heap.c and examples/seed_churn.c, exits 0 with
** nothing on stderr and prints rows; and every file starts with a comment
** saying what it answers.
*/
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft_itest.h"

#if !defined(FT_SOURCE_DIR) || !defined(FT_EXAMPLES)
#error FT_SOURCE_DIR and FT_EXAMPLES must name the source tree and the built examples
#endif

#define QUERIES FT_SOURCE_DIR "/examples/queries"
#define MAX_FILES 64

static char names[MAX_FILES][256];
static int nnames;

static int by_name(const void *a, const void *b) { return strcmp(a, b); }

static int setup(void **state) {
  (void)state;
  DIR *d = opendir(QUERIES);
  if (!d) fail_msg("cannot open %s", QUERIES);
  for (struct dirent *e; (e = readdir(d));) {
    size_t n = strlen(e->d_name);
    if (n > 4 && !strcmp(e->d_name + n - 4, ".sql") && nnames < MAX_FILES)
      snprintf(names[nnames++], sizeof names[0], "%s", e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)nnames, sizeof names[0], by_name);
  return 0;
}

/* Every file says what it is for before any SQL. */
static void test_headers(void **state) {
  (void)state;
  ft_expect_true("cookbook has queries", nnames >= 8);
  for (int i = 0; i < nnames; i++) {
    char *text = ft_read_file(ft_fmt("%s/%s", QUERIES, names[i]));
    if (!text) fail_msg("cannot read %s", names[i]);
    if (strncmp(text, "-- ", 3) != 0 || !strstr(text, "\n-- usage: sqlite3 "))
      fail_msg("%s: no header comment with a usage line", names[i]);
    free(text);
  }
}

/* Record an example and run the whole cookbook on its trace. */
static void run_cookbook(const char *prog) {
  if (system("command -v sqlite3 >/dev/null 2>&1") != 0) {
    print_message("skipping the cookbook: no sqlite3 CLI in PATH (Debian sqlite3)\n");
    skip();
  }
  char db[512];
  snprintf(db, sizeof db, "%s", ft_tmp_path(ft_fmt("queries_%s.db", prog)));
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_fmt("%s/%s", FT_EXAMPLES, prog)));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  for (int i = 0; i < nnames; i++) {
    /* The examples run for a second or less: a 0.1 s threshold for
    ** "outlived" (its default is 10 s) gives it rows to print. */
    ft_run_cmd(&r, NULL,
               FT_ARGV("sqlite3", "-bail", "-readonly", "-header", db, ".parameter set @min_s 0.1",
                       ft_fmt(".read %s/%s", QUERIES, names[i])));
    if (r.status != 0 || r.err[0]) fail_msg("%s on %s: exit %d, stderr:\n%s", names[i], prog, r.status, r.err);
    /* -header prints a header only above rows: output means rows. */
    if (!r.out[0]) fail_msg("%s on %s: no rows", names[i], prog);
    ft_run_free(&r);
  }
}

static void test_pinned_heap(void **state) {
  (void)state;
  run_cookbook("pinned_heap");
}

static void test_seed_churn(void **state) {
  (void)state;
  run_cookbook("seed_churn");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_headers),
      cmocka_unit_test(test_pinned_heap),
      cmocka_unit_test(test_seed_churn),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
