/*
** ft_report_supp.c — leak suppressions in LeakSanitizer's format, so a
** project can point `--suppressions` at the file its LSan CI already uses:
**
**   # comment
**   leak:libfontconfig      matched against every frame's module path,
**   leak:^cache_fill$       function and source file, as LSan matches them
**
** Matching follows LSan's TemplateMatch: the pattern matches anywhere in the
** string unless anchored with '^' / '$', '*' matches any run of characters,
** and each literal piece is looked up at its first occurrence. A leaked
** stack is suppressed by the first suppression (in file order) that matches
** its innermost matching frame; each suppression counts what it hid.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ft_report.h"

int ft_supp_match(const char *pattern, const char *s) {
  if (!s || !*s) return 0;
  int anchored = 0, asterisk = 0;
  if (*pattern == '^') {
    anchored = 1;
    pattern++;
  }
  while (*pattern) {
    if (*pattern == '*') {
      pattern++;
      anchored = 0;
      asterisk = 1;
      continue;
    }
    if (*pattern == '$') return *s == 0 || asterisk;
    if (*s == 0) return 0;
    size_t n = strcspn(pattern, "*$");
    const char *at = memmem(s, strlen(s), pattern, n);
    if (!at || (anchored && at != s)) return 0;
    s = at + n;
    pattern += n;
    anchored = asterisk = 0;
  }
  return 1;
}

int ft_supp_find(const ft_report *r, const ft_stack_info *st) {
  for (int f = 0; f < st->nframes; f++) {
    const ft_frame *fr = &st->frames[f];
    /* LSan tries the module first, then the function and file. */
    const char *module = fr->module ? fr->module : "<unknown module>";
    for (int i = 0; i < r->nsupp; i++)
      if (ft_supp_match(r->supp_patterns[i], module)) return i;
    for (int i = 0; i < r->nsupp; i++)
      if (ft_supp_match(r->supp_patterns[i], fr->function) || ft_supp_match(r->supp_patterns[i], fr->file))
        return i;
  }
  return -1;
}

int ft_supp_load(ft_report *r, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  char *line = NULL;
  size_t cap = 0;
  int lineno = 0, rc = -1, slots = 0;
  while (getline(&line, &cap, f) >= 0) {
    lineno++;
    char *s = line, *e = line + strlen(line);
    while (*s == ' ' || *s == '\t') s++;
    while (e > s && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) *--e = 0;
    if (*s == 0 || *s == '#') continue;
    char *colon = strchr(s, ':');
    if (!colon || colon - s != 4 || strncmp(s, "leak", 4) != 0) {
      snprintf(err, errlen, "%s:%d: not a leak suppression (expected leak:PATTERN): %.80s", path, lineno, s);
      goto out;
    }
    if (colon[1] == 0) {
      snprintf(err, errlen, "%s:%d: empty pattern", path, lineno);
      goto out;
    }
    if (r->nsupp == slots) {
      slots = slots ? slots * 2 : 8;
      char **p = realloc(r->supp_patterns, (size_t)slots * sizeof *p);
      int64_t *c = p ? realloc(r->supp_count, (size_t)slots * sizeof *c) : NULL;
      if (p) r->supp_patterns = p;
      if (c) r->supp_count = c;
      int64_t *b = c ? realloc(r->supp_bytes, (size_t)slots * sizeof *b) : NULL;
      if (b) r->supp_bytes = b;
      if (!b) {
        snprintf(err, errlen, "out of memory");
        goto out;
      }
    }
    if (!(r->supp_patterns[r->nsupp] = strdup(colon + 1))) {
      snprintf(err, errlen, "out of memory");
      goto out;
    }
    r->supp_count[r->nsupp] = r->supp_bytes[r->nsupp] = 0;
    r->nsupp++;
  }
  if (ferror(f)) {
    snprintf(err, errlen, "%s: read error", path);
    goto out;
  }
  rc = 0;
out:
  free(line);
  fclose(f);
  return rc;
}
