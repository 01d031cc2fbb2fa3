/*
** ft_config.c — parsing FRAGTRACE_* settings (see ft_config.h). No malloc,
** no stdio: it runs inside the first intercepted allocation.
*/
#include "ft_config.h"

#include <string.h>
#include <strings.h>

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

int ft_parse_u64(const char *s, uint64_t *out) {
  if (!s || !*s) return -1;
  uint64_t v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10) return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

int ft_parse_bytes(const char *s, uint64_t *out) {
  if (!s || !*s) return -1;
  uint64_t v = 0;
  const char *p = s;
  for (; *p >= '0' && *p <= '9'; p++) {
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10) return -1;
    v = v * 10 + d;
  }
  if (p == s) return -1;
  unsigned shift = 0;
  switch (*p) {
    case 'k': case 'K': shift = 10; p++; break;
    case 'm': case 'M': shift = 20; p++; break;
    case 'g': case 'G': shift = 30; p++; break;
    case 't': case 'T': shift = 40; p++; break;
    default: break;
  }
  if (shift && (p[0] == 'i' || p[0] == 'I') && (p[1] == 'b' || p[1] == 'B')) p += 2;
  else if (*p == 'b' || *p == 'B') p++;
  if (*p || (shift && v > (UINT64_MAX >> shift))) return -1;
  *out = v << shift;
  return 0;
}

int ft_parse_signal(const char *s, int *out) {
  if (!s || !*s) return -1;
  if (!strcmp(s, "0") || !strcasecmp(s, "none")) {
    *out = 0;
    return 0;
  }
  long v;
  if (ft_parse_long(s, 1, 1024, &v) == 0) {
    if (v != SIGUSR1 && v != SIGUSR2 && (v < SIGRTMIN || v > SIGRTMAX)) return -1;
    *out = (int)v;
    return 0;
  }
  if (!strncasecmp(s, "SIG", 3)) s += 3;
  if (!strcasecmp(s, "USR1")) {
    *out = SIGUSR1;
    return 0;
  }
  if (!strcasecmp(s, "USR2")) {
    *out = SIGUSR2;
    return 0;
  }
  int base, dir;
  if (!strncasecmp(s, "RTMIN", 5)) base = SIGRTMIN, dir = 1;
  else if (!strncasecmp(s, "RTMAX", 5)) base = SIGRTMAX, dir = -1;
  else return -1;
  s += 5;
  if (!*s) {
    *out = base;
    return 0;
  }
  if (*s != (dir > 0 ? '+' : '-')) return -1;
  if (ft_parse_long(s + 1, 0, SIGRTMAX - SIGRTMIN, &v) != 0) return -1;
  *out = base + dir * (int)v;
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

/* Apply one long setting in [min, max]: keep the default and warn when bad. */
static void load_long(ft_getenv_fn get, ft_warn_fn warn, const char *name, long min, long max, long *field) {
  const char *v = get(name);
  if (!v) return;
  if (ft_parse_long(v, min, max, field) != 0 && warn) warn(name, v, "is not a valid value; using the default");
}

/* Apply one byte-count setting (K/M/G suffixes) in [0, max]. */
static void load_size(ft_getenv_fn get, ft_warn_fn warn, const char *name, uint64_t max, uint64_t *field) {
  const char *v = get(name);
  if (!v) return;
  uint64_t x;
  if (ft_parse_bytes(v, &x) == 0 && x <= max) *field = x;
  else if (warn) warn(name, v, "is not a valid size; using the default");
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

  c->sample_table = FT_SAMPLE_TABLE_DEFAULT;
  c->control_signal = FT_DEFAULT_CONTROL_SIGNAL;
  load_size(get, warn, "FRAGTRACE_SAMPLE_BYTES", (uint64_t)1 << 40, &c->sample_bytes);
  const char *v = get("FRAGTRACE_SEED");
  if (v && ft_parse_u64(v, &c->seed) != 0 && warn) {
    c->seed = 0;
    warn("FRAGTRACE_SEED", v, "is not an unsigned 64-bit decimal; using a seed from time and pid");
  }
  uint64_t slots = c->sample_table;
  load_size(get, warn, "FRAGTRACE_SAMPLE_TABLE", (uint64_t)1 << 26, &slots);
  if (slots < 1024) {
    if (warn) warn("FRAGTRACE_SAMPLE_TABLE", get("FRAGTRACE_SAMPLE_TABLE"), "is below 1024 slots; using the default");
    slots = FT_SAMPLE_TABLE_DEFAULT;
  }
  c->sample_table = 1024;
  while (c->sample_table < slots) c->sample_table <<= 1; /* a power of two: index by mask */
  load_int(get, warn, "FRAGTRACE_PAUSED", 0, 1, &c->paused);
  load_long(get, warn, "FRAGTRACE_DELAY_MS", 0, 86400000L, &c->delay_ms);
  load_long(get, warn, "FRAGTRACE_DURATION_MS", 0, 31536000000L, &c->duration_ms);
  v = get("FRAGTRACE_SIGNAL");
  if (v && ft_parse_signal(v, &c->control_signal) != 0 && warn)
    warn("FRAGTRACE_SIGNAL", v, "is not a usable signal (USR1, USR2, RTMIN+N, RTMAX-N, a number, none); using the default");
  load_size(get, warn, "FRAGTRACE_MAX_SIZE", UINT64_MAX, &c->max_size);

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
