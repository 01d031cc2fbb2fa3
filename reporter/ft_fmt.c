/*
** ft_fmt.c — human units, unit parsers, JSON writer and tables (see
** ft_fmt.h). Parsers are written by hand instead of with strtod: strtod
** follows the locale and accepts hex, "inf" and "nan", none of which a
** user means on a command line.
*/
#include "ft_fmt.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- human units --------------------------------------------------------- */

const char *ft_fmt_bytes(char *buf, size_t cap, double bytes) {
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double a = fabs(bytes);
  if (a < 1024) {
    snprintf(buf, cap, "%.0f B", bytes);
    return buf;
  }
  int u = 0;
  a /= 1024;
  while (a >= 1024 && u + 1 < (int)(sizeof units / sizeof *units)) {
    a /= 1024;
    u++;
  }
  snprintf(buf, cap, "%s%.1f %s", bytes < 0 ? "-" : "", a, units[u]);
  return buf;
}

const char *ft_fmt_duration(char *buf, size_t cap, double ns) {
  double a = fabs(ns);
  const char *sign = ns < 0 ? "-" : "";
  if (a < 1e3) snprintf(buf, cap, "%s%.0f ns", sign, a);
  else if (a < 1e6) snprintf(buf, cap, "%s%.1f µs", sign, a / 1e3);
  else if (a < 1e9) snprintf(buf, cap, "%s%.1f ms", sign, a / 1e6);
  else if (a < 60e9) snprintf(buf, cap, "%s%.2f s", sign, a / 1e9);
  else if (a < 3600e9) snprintf(buf, cap, "%s%.1f min", sign, a / 60e9);
  else snprintf(buf, cap, "%s%.1f h", sign, a / 3600e9);
  return buf;
}

const char *ft_fmt_si(char *buf, size_t cap, double n) {
  static const char suffix[] = "kMGTPE";
  double a = fabs(n);
  if (a < 1000) {
    if (a == floor(a)) snprintf(buf, cap, "%.0f", n);
    else snprintf(buf, cap, "%.1f", n);
    return buf;
  }
  int u = 0;
  a /= 1000;
  while (a >= 1000 && u + 1 < (int)sizeof suffix - 1) {
    a /= 1000;
    u++;
  }
  snprintf(buf, cap, "%s%.1f%c", n < 0 ? "-" : "", a, suffix[u]);
  return buf;
}

const char *ft_fmt_int(char *buf, size_t cap, int64_t n) {
  char digits[32];
  /* Negate in unsigned arithmetic: -INT64_MIN does not exist. */
  uint64_t u = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
  int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)u);
  char tmp[48];
  size_t o = 0;
  if (n < 0) tmp[o++] = '-';
  for (int i = 0; i < len; i++) {
    if (i > 0 && (len - i) % 3 == 0) tmp[o++] = ',';
    tmp[o++] = digits[i];
  }
  tmp[o] = 0;
  snprintf(buf, cap, "%s", tmp);
  return buf;
}

const char *ft_fmt_pct(char *buf, size_t cap, double pct) {
  if (pct == 0 || pct == 100) snprintf(buf, cap, "%.0f%%", pct);
  else snprintf(buf, cap, "%.1f%%", pct);
  return buf;
}

/* ---- parsers ------------------------------------------------------------- */

/* A non-negative decimal number at *s ("12", "1.5", ".5"); advances *s.
** Returns -1 when there are no digits. */
static int parse_decimal(const char **s, double *out) {
  const char *p = *s;
  double v = 0;
  int digits = 0;
  for (; *p >= '0' && *p <= '9'; p++, digits++) v = v * 10 + (*p - '0');
  if (*p == '.') {
    double scale = 0.1;
    for (p++; *p >= '0' && *p <= '9'; p++, digits++, scale /= 10) v += (*p - '0') * scale;
  }
  if (digits == 0) return -1;
  *s = p;
  *out = v;
  return 0;
}

typedef struct unit {
  const char *name;
  double factor;
} unit;

/* Parse "<number><unit>" with a unit from units (exact match; "" allowed
** only when listed). The result is rounded to an integer in [0, INT64_MAX]. */
static int parse_with_units(const char *s, const unit *units, size_t nunits, int64_t *out) {
  if (!s) return -1;
  double v;
  const char *p = s;
  if (parse_decimal(&p, &v) != 0) return -1;
  for (size_t i = 0; i < nunits; i++)
    if (!strcmp(p, units[i].name)) {
      double r = floor(v * units[i].factor + 0.5);
      if (!(r < 9223372036854775807.0)) return -1;
      *out = (int64_t)r;
      return 0;
    }
  return -1;
}

int ft_parse_duration(const char *s, int64_t *ns) {
  static const unit units[] = {{"ns", 1},        {"us", 1e3},  {"µs", 1e3},   {"ms", 1e6},
                               {"s", 1e9},       {"m", 60e9},  {"min", 60e9}, {"h", 3600e9}};
  if (s && !strcmp(s, "0")) {
    *ns = 0;
    return 0;
  }
  return parse_with_units(s, units, sizeof units / sizeof *units, ns);
}

int ft_parse_size(const char *s, int64_t *bytes) {
  static const unit units[] = {
      {"", 1},          {"B", 1},
      {"K", 1024.0},    {"KiB", 1024.0},     {"KB", 1e3},  {"k", 1024.0},
      {"M", 1048576.0}, {"MiB", 1048576.0},  {"MB", 1e6},
      {"G", 1073741824.0}, {"GiB", 1073741824.0}, {"GB", 1e9},
      {"T", 1099511627776.0}, {"TiB", 1099511627776.0}, {"TB", 1e12},
  };
  return parse_with_units(s, units, sizeof units / sizeof *units, bytes);
}

int ft_parse_si(const char *s, double *value) {
  if (!s) return -1;
  double v;
  const char *p = s;
  if (parse_decimal(&p, &v) != 0) return -1;
  if (*p == 'k' || *p == 'K') v *= 1e3, p++;
  else if (*p == 'M') v *= 1e6, p++;
  else if (*p == 'G') v *= 1e9, p++;
  if (!strcmp(p, "/s")) p += 2;
  if (*p) return -1;
  *value = v;
  return 0;
}

int ft_parse_pct(const char *s, double *pct) {
  if (!s) return -1;
  double v;
  const char *p = s;
  if (parse_decimal(&p, &v) != 0) return -1;
  if (*p == '%') p++;
  if (*p || v > 100) return -1;
  *pct = v;
  return 0;
}

int ft_parse_int(const char *s, int64_t *value) {
  if (!s || !*s) return -1;
  int64_t v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    if (v > (INT64_MAX - (*p - '0')) / 10) return -1;
    v = v * 10 + (*p - '0');
  }
  *value = v;
  return 0;
}

/* ---- JSON ---------------------------------------------------------------- */

void ft_json_init(ft_json *j, FILE *out) {
  memset(j, 0, sizeof *j);
  j->out = out;
}

/* Comma, newline and indentation before a value, then its key. */
static void json_prefix(ft_json *j, const char *key) {
  if (j->depth > 0) {
    if (j->count[j->depth]++ > 0) fputc(',', j->out);
    fputc('\n', j->out);
    for (int i = 0; i < j->depth; i++) fputs("  ", j->out);
  }
  if (key) {
    ft_json_write_string(j->out, key);
    fputs(": ", j->out);
  }
}

static void json_open(ft_json *j, const char *key, char c) {
  json_prefix(j, key);
  fputc(c, j->out);
  assert(j->depth + 1 < FT_JSON_MAXDEPTH);
  j->kind[j->depth] = c;
  j->count[++j->depth] = 0;
}

void ft_json_object(ft_json *j, const char *key) { json_open(j, key, '{'); }
void ft_json_array(ft_json *j, const char *key) { json_open(j, key, '['); }

void ft_json_end(ft_json *j) {
  assert(j->depth > 0);
  int had = j->count[j->depth];
  j->depth--;
  if (had) {
    fputc('\n', j->out);
    for (int i = 0; i < j->depth; i++) fputs("  ", j->out);
  }
  fputc(j->kind[j->depth] == '[' ? ']' : '}', j->out);
  if (j->depth == 0) fputc('\n', j->out);
}

void ft_json_str(ft_json *j, const char *key, const char *value) {
  json_prefix(j, key);
  if (value) ft_json_write_string(j->out, value);
  else fputs("null", j->out);
}

void ft_json_int(ft_json *j, const char *key, int64_t value) {
  json_prefix(j, key);
  fprintf(j->out, "%lld", (long long)value);
}

void ft_json_num(ft_json *j, const char *key, double value) {
  json_prefix(j, key);
  if (!isfinite(value)) fputs("null", j->out);
  else if (value == floor(value) && fabs(value) < 9007199254740992.0) fprintf(j->out, "%.0f", value);
  else fprintf(j->out, "%.15g", value);
}

void ft_json_bool(ft_json *j, const char *key, int value) {
  json_prefix(j, key);
  fputs(value ? "true" : "false", j->out);
}

void ft_json_null(ft_json *j, const char *key) {
  json_prefix(j, key);
  fputs("null", j->out);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is invalid. */
static int utf8_seq(const unsigned char *s) {
  if (s[0] < 0x80) return 1;
  int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
  if (n == 0 || (n == 3 && s[0] >= 0xf0)) return 0;
  for (int i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  /* Overlong 3- and 4-byte forms and surrogates are not valid UTF-8. */
  if (n == 3 && s[0] == 0xe0 && s[1] < 0xa0) return 0;
  if (n == 3 && s[0] == 0xed && s[1] >= 0xa0) return 0;
  if (n == 4 && s[0] == 0xf0 && s[1] < 0x90) return 0;
  if (n == 4 && s[0] == 0xf4 && s[1] >= 0x90) return 0;
  return n;
}

void ft_json_write_string(FILE *out, const char *s) {
  fputc('"', out);
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    unsigned char c = *p;
    if (c == '"' || c == '\\') {
      fputc('\\', out);
      fputc(c, out);
      p++;
    } else if (c < 0x20) {
      switch (c) {
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        case '\b': fputs("\\b", out); break;
        case '\f': fputs("\\f", out); break;
        default: fprintf(out, "\\u%04x", c);
      }
      p++;
    } else {
      int n = utf8_seq(p);
      if (n == 0) {
        fputs("\\ufffd", out); /* file names need not be UTF-8; JSON must be */
        p++;
      } else {
        fwrite(p, 1, (size_t)n, out);
        p += n;
      }
    }
  }
  fputc('"', out);
}

/* ---- tables -------------------------------------------------------------- */

struct ft_table {
  int ncols;
  char *align;
  char **cells; /* (rows + 1) * ncols, row 0 the header */
  size_t rows, cap;
};

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

ft_table *ft_table_new(int ncols, const char *const *headers, const char *align) {
  assert(ncols > 0 && (int)strlen(align) == ncols);
  ft_table *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->ncols = ncols;
  t->align = strdup(align);
  t->cap = 16;
  t->cells = calloc(t->cap * (size_t)ncols, sizeof *t->cells);
  if (!t->align || !t->cells) {
    ft_table_free(t);
    return NULL;
  }
  for (int c = 0; c < ncols; c++) t->cells[c] = dup_or_empty(headers[c]);
  return t;
}

int ft_table_row(ft_table *t, const char *const *cells) {
  if (t->rows + 2 > t->cap) {
    size_t ncap = t->cap * 2;
    char **n = realloc(t->cells, ncap * (size_t)t->ncols * sizeof *n);
    if (!n) return -1;
    t->cells = n;
    t->cap = ncap;
  }
  char **row = t->cells + (t->rows + 1) * (size_t)t->ncols;
  for (int c = 0; c < t->ncols; c++) row[c] = dup_or_empty(cells[c]);
  t->rows++;
  return 0;
}

size_t ft_table_rows(const ft_table *t) { return t->rows; }

size_t ft_utf8_width(const char *s) {
  size_t w = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if ((*p & 0xc0) != 0x80) w++;
  return w;
}

void ft_md_escape(FILE *out, const char *s) {
  for (; *s; s++) {
    if (strchr("|*_`<>[]\\", *s)) fputc('\\', out);
    fputc(*s, out);
  }
}

static void pad(FILE *out, size_t n) {
  while (n--) fputc(' ', out);
}

void ft_table_print(const ft_table *t, FILE *out, ft_style style, const char *indent) {
  int nc = t->ncols;
  if (style == FT_STYLE_MARKDOWN) {
    for (size_t r = 0; r <= t->rows; r++) {
      fputc('|', out);
      for (int c = 0; c < nc; c++) {
        fputc(' ', out);
        /* Cells are plain text: escape what markdown would interpret. */
        ft_md_escape(out, t->cells[r * (size_t)nc + (size_t)c]);
        fputs(" |", out);
      }
      fputc('\n', out);
      if (r == 0) {
        fputc('|', out);
        for (int c = 0; c < nc; c++) fputs(t->align[c] == 'r' ? "---:|" : "---|", out);
        fputc('\n', out);
      }
    }
    return;
  }
  size_t *w = calloc((size_t)nc, sizeof *w);
  if (!w) return;
  for (size_t r = 0; r <= t->rows; r++)
    for (int c = 0; c < nc; c++) {
      size_t cw = ft_utf8_width(t->cells[r * (size_t)nc + (size_t)c]);
      if (cw > w[c]) w[c] = cw;
    }
  for (size_t r = 0; r <= t->rows; r++) {
    /* Trailing blanks are left out: the last column is often left-aligned. */
    size_t line = 0;
    char *buf = NULL;
    FILE *lf = open_memstream(&buf, &line);
    if (!lf) break;
    fputs(indent ? indent : "", lf);
    for (int c = 0; c < nc; c++) {
      const char *cell = t->cells[r * (size_t)nc + (size_t)c];
      size_t cw = ft_utf8_width(cell);
      if (c > 0) fputs("  ", lf);
      if (t->align[c] == 'r') {
        pad(lf, w[c] - cw);
        fputs(cell, lf);
      } else {
        fputs(cell, lf);
        if (c + 1 < nc) pad(lf, w[c] - cw);
      }
    }
    fclose(lf);
    size_t n = strlen(buf);
    while (n > 0 && buf[n - 1] == ' ') n--;
    fwrite(buf, 1, n, out);
    fputc('\n', out);
    free(buf);
    if (r == 0) {
      fputs(indent ? indent : "", out);
      size_t total = 0;
      for (int c = 0; c < nc; c++) total += w[c] + (c > 0 ? 2 : 0);
      for (size_t i = 0; i < total; i++) fputc('-', out);
      fputc('\n', out);
    }
  }
  free(w);
}

void ft_table_free(ft_table *t) {
  if (!t) return;
  if (t->cells)
    for (size_t i = 0; i < (t->rows + 1) * (size_t)t->ncols; i++) free(t->cells[i]);
  free(t->cells);
  free(t->align);
  free(t);
}
