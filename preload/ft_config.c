/*
** ft_config.c — parsing FRAGTRACE_* settings (see ft_config.h). No malloc,
** no stdio: it runs inside the first intercepted allocation.
*/
#include "ft_config.h"

#include <string.h>

int ft_parse_long(const char *s, long min, long max, long *out) {
  if (!s || !*s) return -1;
  long v = 0;
  const char *p = s;
  int neg = 0;
  if (*p == '-') {
    neg = 1;
    p++;
  }
  if (!*p) return -1;
  for (; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    if (v > (max + 9L) / 10L + 1) return -1; /* far out of range: stop before overflow */
    v = v * 10 + (*p - '0');
  }
  if (neg) v = -v;
  if (v < min || v > max) return -1;
  *out = v;
  return 0;
}

/* Apply one integer setting: keep the default and warn when the value is bad. */
static void load_int(ft_getenv_fn get, ft_warn_fn warn, const char *name, long min, long max,
                     int *field) {
  const char *v = get(name);
  if (!v) return;
  long x;
  if (ft_parse_long(v, min, max, &x) == 0) {
    *field = (int)x;
    return;
  }
  if (warn) warn(name, v, "is not a valid value; using the default");
}

/* Apply one string setting that must fit a path buffer. */
static void load_path(ft_getenv_fn get, ft_warn_fn warn, const char *name, char *field) {
  const char *v = get(name);
  if (!v) return;
  size_t n = strlen(v);
  if (n == 0 || n >= FT_PATH_MAX) {
    if (warn) warn(name, v, "is empty or too long; using the default");
    return;
  }
  memcpy(field, v, n + 1);
}

void ft_config_load(ft_config *c, ft_getenv_fn get, ft_warn_fn warn) {
  memset(c, 0, sizeof *c);
  strcpy(c->output, "fragtrace.%p.db");
  c->depth = 64;
  c->flush_ms = 100;
  c->sample_ms = 100;
  c->track_mmap = 1;
  c->buffer_kb = 1024;
  c->lossy = 0;
  c->sys_sample_ms = 1000;
  c->slabinfo_ms = 10000;
  c->pagetypeinfo_ms = 10000;
  c->smaps_ms = 1000;
  c->mallinfo_ms = 1000;
  strcpy(c->proc_dir, "/proc");

  load_path(get, warn, "FRAGTRACE_OUTPUT", c->output);
  load_path(get, warn, "FRAGTRACE_SPILL_DIR", c->spill_dir);
  load_int(get, warn, "FRAGTRACE_DEPTH", 1, FT_MAX_DEPTH, &c->depth);
  load_int(get, warn, "FRAGTRACE_FLUSH_MS", 1, 1000, &c->flush_ms);
  load_int(get, warn, "FRAGTRACE_SAMPLE_MS", 0, 60000, &c->sample_ms);
  load_int(get, warn, "FRAGTRACE_MMAP", 0, 1, &c->track_mmap);
  load_int(get, warn, "FRAGTRACE_BUFFER_KB", 64, 65536, &c->buffer_kb);
  load_int(get, warn, "FRAGTRACE_LOSSY", 0, 1, &c->lossy);
  load_int(get, warn, "FRAGTRACE_SYS_SAMPLE_MS", 0, 3600000, &c->sys_sample_ms);
  load_int(get, warn, "FRAGTRACE_SLABINFO_MS", 0, 3600000, &c->slabinfo_ms);
  load_int(get, warn, "FRAGTRACE_PAGETYPEINFO_MS", 0, 3600000, &c->pagetypeinfo_ms);
  load_int(get, warn, "FRAGTRACE_SMAPS_MS", 0, 3600000, &c->smaps_ms);
  load_int(get, warn, "FRAGTRACE_MALLINFO_MS", 0, 3600000, &c->mallinfo_ms);
  load_path(get, warn, "FRAGTRACE_PROC_DIR", c->proc_dir);

  /* An output template we cannot expand is a bad value like any other. */
  char probe[FT_PATH_MAX];
  if (ft_expand_output(c->output, 1, 1, probe, sizeof probe) != 0) {
    if (warn) warn("FRAGTRACE_OUTPUT", c->output, "has an unknown %-escape; using the default");
    strcpy(c->output, "fragtrace.%p.db");
  }
}

/* Append the decimal digits of v to out at *len; -1 if it does not fit. */
static int append_u64(char *out, size_t cap, size_t *len, uint64_t v) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  if (*len + (size_t)n >= cap) return -1;
  while (n) out[(*len)++] = digits[--n];
  return 0;
}

int ft_expand_output(const char *tmpl, int pid, uint64_t unix_s, char *out, size_t cap) {
  size_t len = 0;
  for (const char *p = tmpl; *p; p++) {
    if (*p != '%') {
      if (len + 1 >= cap) return -1;
      out[len++] = *p;
      continue;
    }
    p++;
    if (*p == 'p') {
      if (append_u64(out, cap, &len, (uint64_t)pid)) return -1;
    } else if (*p == 't') {
      if (append_u64(out, cap, &len, unix_s)) return -1;
    } else if (*p == '%') {
      if (len + 1 >= cap) return -1;
      out[len++] = '%';
    } else {
      return -1;
    }
  }
  if (len >= cap) return -1;
  out[len] = 0;
  return 0;
}
