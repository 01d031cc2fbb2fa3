/* test_config.c — FRAGTRACE_* parsing: defaults, valid values, one warning
** and the default for each bad value, output template expansion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ft_config.h"

static const char *env_names[16], *env_values[16];
static int env_n, warnings;
static char last_warned[64];

static const char *fake_getenv(const char *name) {
  for (int i = 0; i < env_n; i++)
    if (!strcmp(env_names[i], name)) return env_values[i];
  return NULL;
}

static void fake_warn(const char *name, const char *value, const char *why) {
  (void)value;
  (void)why;
  warnings++;
  snprintf(last_warned, sizeof last_warned, "%s", name);
}

static void setenv_fake(const char *n, const char *v) {
  env_names[env_n] = n;
  env_values[env_n++] = v;
}

static int reset(void **state) {
  (void)state;
  env_n = warnings = 0;
  last_warned[0] = 0;
  return 0;
}

static void defaults(void **state) {
  (void)state;
  ft_config c;
  ft_config_load(&c, fake_getenv, fake_warn);
  assert_string_equal(c.output, "fragtrace.%p.db");
  assert_int_equal(c.depth, 64);
  assert_int_equal(c.flush_ms, 100);
  assert_int_equal(c.sample_ms, 100);
  assert_int_equal(c.track_mmap, 1);
  assert_int_equal(c.buffer_kb, 1024);
  assert_int_equal(c.lossy, 0);
  assert_string_equal(c.spill_dir, "");
  assert_int_equal(c.sys_sample_ms, 1000);
  assert_int_equal(c.slabinfo_ms, 10000);
  assert_int_equal(c.pagetypeinfo_ms, 10000);
  assert_int_equal(c.smaps_ms, 1000);
  assert_int_equal(c.mallinfo_ms, 1000);
  assert_string_equal(c.proc_dir, "/proc");
  assert_int_equal(c.sample_bytes, 0);
  assert_int_equal(c.seed, 0);
  assert_int_equal(c.sample_table, 1 << 18);
  assert_int_equal(c.paused, 0);
  assert_int_equal(c.delay_ms, 0);
  assert_int_equal(c.duration_ms, 0);
  assert_int_equal(c.control_signal, SIGRTMIN + 5);
  assert_int_equal(c.max_size, 0);
  assert_int_equal(warnings, 0);
}

/* The sampler's per-source intervals: 0 turns a source off, the maximum is
** an hour, anything else warns once and keeps that source's default. */
static void sampler_sources(void **state) {
  (void)state;
  setenv_fake("FRAGTRACE_SYS_SAMPLE_MS", "0");
  setenv_fake("FRAGTRACE_SLABINFO_MS", "3600000");
  setenv_fake("FRAGTRACE_SMAPS_MS", "250");
  setenv_fake("FRAGTRACE_PAGETYPEINFO_MS", "1");
  setenv_fake("FRAGTRACE_MALLINFO_MS", "3600001");
  setenv_fake("FRAGTRACE_PROC_DIR", "/tmp/fakeproc");
  ft_config c;
  ft_config_load(&c, fake_getenv, fake_warn);
  assert_int_equal(c.sys_sample_ms, 0);
  assert_int_equal(c.slabinfo_ms, 3600000);
  assert_int_equal(c.smaps_ms, 250);
  assert_int_equal(c.pagetypeinfo_ms, 1);
  assert_int_equal(c.mallinfo_ms, 1000);
  assert_string_equal(c.proc_dir, "/tmp/fakeproc");
  assert_int_equal(warnings, 1);
  assert_string_equal(last_warned, "FRAGTRACE_MALLINFO_MS");
}

static void sampler_sources_bad(void **state) {
  (void)state;
  setenv_fake("FRAGTRACE_SYS_SAMPLE_MS", "-1");
  setenv_fake("FRAGTRACE_SMAPS_MS", "1s");
  setenv_fake("FRAGTRACE_PROC_DIR", "");
  ft_config c;
  ft_config_load(&c, fake_getenv, fake_warn);
  assert_int_equal(c.sys_sample_ms, 1000);
  assert_int_equal(c.smaps_ms, 1000);
  assert_string_equal(c.proc_dir, "/proc");
  assert_int_equal(warnings, 3);
}

static void valid_values(void **state) {
  (void)state;
  setenv_fake("FRAGTRACE_DEPTH", "12");
  setenv_fake("FRAGTRACE_FLUSH_MS", "1000");
  setenv_fake("FRAGTRACE_SAMPLE_MS", "0");
  setenv_fake("FRAGTRACE_MMAP", "0");
  setenv_fake("FRAGTRACE_BUFFER_KB", "64");
  setenv_fake("FRAGTRACE_LOSSY", "1");
  setenv_fake("FRAGTRACE_OUTPUT", "/tmp/x.%t.%p.db");
  ft_config c;
  ft_config_load(&c, fake_getenv, fake_warn);
  assert_int_equal(c.depth, 12);
  assert_int_equal(c.flush_ms, 1000);
  assert_int_equal(c.sample_ms, 0);
  assert_int_equal(c.track_mmap, 0);
  assert_int_equal(c.buffer_kb, 64);
  assert_int_equal(c.lossy, 1);
  assert_string_equal(c.output, "/tmp/x.%t.%p.db");
  assert_int_equal(warnings, 0);
}

static void bad_values_warn_once_each_and_keep_defaults(void **state) {
  (void)state;
  setenv_fake("FRAGTRACE_DEPTH", "abc");
  setenv_fake("FRAGTRACE_FLUSH_MS", "0");
  setenv_fake("FRAGTRACE_SAMPLE_MS", "-5");
  setenv_fake("FRAGTRACE_MMAP", "2");
  setenv_fake("FRAGTRACE_BUFFER_KB", "99999999999999999999");
  setenv_fake("FRAGTRACE_LOSSY", "");
  ft_config c;
  ft_config_load(&c, fake_getenv, fake_warn);
  assert_int_equal(warnings, 6);
  assert_int_equal(c.depth, 64);
  assert_int_equal(c.flush_ms, 100);
  assert_int_equal(c.sample_ms, 100);
  assert_int_equal(c.track_mmap, 1);
  assert_int_equal(c.buffer_kb, 1024);
  assert_int_equal(c.lossy, 0);
}

static void bad_output_template(void **state) {
  (void)state;
  setenv_fake("FRAGTRACE_OUTPUT", "trace.%q.db");
  ft_config c;
  ft_config_load(&c, fake_getenv, fake_warn);
  assert_int_equal(warnings, 1);
  assert_string_equal(last_warned, "FRAGTRACE_OUTPUT");
  assert_string_equal(c.output, "fragtrace.%p.db");
}

static void parse_long_edges(void **state) {
  (void)state;
  long v = 0;
  assert_int_equal(ft_parse_long("0", 0, 10, &v), 0);
  assert_int_equal(v, 0);
  assert_int_equal(ft_parse_long("10", 0, 10, &v), 0);
  assert_int_equal(v, 10);
  assert_int_equal(ft_parse_long("11", 0, 10, &v), -1);
  assert_int_equal(ft_parse_long("1x", 0, 10, &v), -1);
  assert_int_equal(ft_parse_long(" 1", 0, 10, &v), -1);
  assert_int_equal(ft_parse_long("-", -5, 10, &v), -1);
  assert_int_equal(ft_parse_long("-5", -5, 10, &v), 0);
  assert_int_equal(v, -5);
  assert_int_equal(ft_parse_long(NULL, 0, 10, &v), -1);
}

/* Production mode settings (issue 5), all valid. */
static void production_values(void **state) {
  (void)state;
  setenv_fake("FRAGTRACE_SAMPLE_BYTES", "512K");
  setenv_fake("FRAGTRACE_SEED", "18446744073709551615");
  setenv_fake("FRAGTRACE_SAMPLE_TABLE", "5000"); /* rounded up to 8192 */
  setenv_fake("FRAGTRACE_PAUSED", "1");
  setenv_fake("FRAGTRACE_DELAY_MS", "86400000");
  setenv_fake("FRAGTRACE_DURATION_MS", "31536000000");
  setenv_fake("FRAGTRACE_SIGNAL", "SIGUSR2");
  setenv_fake("FRAGTRACE_MAX_SIZE", "64MiB");
  ft_config c;
  ft_config_load(&c, fake_getenv, fake_warn);
  assert_int_equal(warnings, 0);
  assert_int_equal(c.sample_bytes, 524288);
  assert_true(c.seed == UINT64_MAX);
  assert_int_equal(c.sample_table, 8192);
  assert_int_equal(c.paused, 1);
  assert_int_equal(c.delay_ms, 86400000);
  assert_int_equal(c.duration_ms, 31536000000L);
  assert_int_equal(c.control_signal, SIGUSR2);
  assert_int_equal(c.max_size, 64u << 20);
}

/* Each bad production value: one warning, the default kept. */
static void production_bad_values(void **state) {
  (void)state;
  setenv_fake("FRAGTRACE_SAMPLE_BYTES", "2T"); /* above 2^40 */
  setenv_fake("FRAGTRACE_SEED", "18446744073709551616");
  setenv_fake("FRAGTRACE_SAMPLE_TABLE", "512");
  setenv_fake("FRAGTRACE_PAUSED", "yes");
  setenv_fake("FRAGTRACE_DELAY_MS", "86400001");
  setenv_fake("FRAGTRACE_DURATION_MS", "-1");
  setenv_fake("FRAGTRACE_SIGNAL", "SEGV");
  setenv_fake("FRAGTRACE_MAX_SIZE", "12X");
  ft_config c;
  ft_config_load(&c, fake_getenv, fake_warn);
  assert_int_equal(warnings, 8);
  assert_int_equal(c.sample_bytes, 0);
  assert_int_equal(c.seed, 0);
  assert_int_equal(c.sample_table, 1 << 18);
  assert_int_equal(c.paused, 0);
  assert_int_equal(c.delay_ms, 0);
  assert_int_equal(c.duration_ms, 0);
  assert_int_equal(c.control_signal, SIGRTMIN + 5);
  assert_int_equal(c.max_size, 0);
}

static void production_edges(void **state) {
  (void)state;
  setenv_fake("FRAGTRACE_SAMPLE_BYTES", "1T"); /* exactly 2^40 */
  setenv_fake("FRAGTRACE_SAMPLE_TABLE", "64M");  /* 2^26, the maximum */
  setenv_fake("FRAGTRACE_SIGNAL", "none");
  ft_config c;
  ft_config_load(&c, fake_getenv, fake_warn);
  assert_int_equal(warnings, 0);
  assert_true(c.sample_bytes == (uint64_t)1 << 40);
  assert_int_equal(c.sample_table, 1 << 26);
  assert_int_equal(c.control_signal, 0);
}

/* Signal names and numbers: what ft_parse_signal accepts and refuses. */
static void signal_names(void **state) {
  (void)state;
  int s = -1;
  assert_int_equal(ft_parse_signal("0", &s), 0);
  assert_int_equal(s, 0);
  assert_int_equal(ft_parse_signal("NONE", &s), 0);
  assert_int_equal(s, 0);
  assert_int_equal(ft_parse_signal("USR1", &s), 0);
  assert_int_equal(s, SIGUSR1);
  assert_int_equal(ft_parse_signal("sigusr2", &s), 0);
  assert_int_equal(s, SIGUSR2);
  assert_int_equal(ft_parse_signal("RTMIN", &s), 0);
  assert_int_equal(s, SIGRTMIN);
  assert_int_equal(ft_parse_signal("SIGRTMIN+5", &s), 0);
  assert_int_equal(s, SIGRTMIN + 5);
  assert_int_equal(ft_parse_signal("rtmax-2", &s), 0);
  assert_int_equal(s, SIGRTMAX - 2);
  assert_int_equal(ft_parse_signal("RTMAX", &s), 0);
  assert_int_equal(s, SIGRTMAX);
  char num[16];
  snprintf(num, sizeof num, "%d", SIGRTMIN + 3);
  assert_int_equal(ft_parse_signal(num, &s), 0);
  assert_int_equal(s, SIGRTMIN + 3);
  snprintf(num, sizeof num, "%d", SIGUSR1);
  assert_int_equal(ft_parse_signal(num, &s), 0);
  assert_int_equal(s, SIGUSR1);
  s = 77;
  static const char *const bad[] = {"", "9", "11", "KILL", "SIGSEGV", "RTMIN-1", "RTMAX+1", "RTMIN+", "RTMIN+x",
                                    "RTMIN+100", "USR3", "65", "-1", " USR1", "SIG"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (ft_parse_signal(bad[i], &s) != -1) fail_msg("'%s' accepted as a control signal", bad[i]);
    assert_int_equal(s, 77); /* untouched on failure */
  }
}

static void parse_bytes_and_u64(void **state) {
  (void)state;
  uint64_t v = 0;
  assert_int_equal(ft_parse_bytes("0", &v), 0);
  assert_true(v == 0);
  assert_int_equal(ft_parse_bytes("4k", &v), 0);
  assert_true(v == 4096);
  assert_int_equal(ft_parse_bytes("3GB", &v), 0);
  assert_true(v == 3ull << 30);
  assert_int_equal(ft_parse_bytes("7B", &v), 0);
  assert_true(v == 7);
  assert_int_equal(ft_parse_bytes("16777216T", &v), -1); /* 2^64: overflow */
  assert_int_equal(ft_parse_bytes("k", &v), -1);
  assert_int_equal(ft_parse_bytes("1kk", &v), -1);
  assert_int_equal(ft_parse_bytes("-1", &v), -1);
  assert_int_equal(ft_parse_u64("18446744073709551615", &v), 0);
  assert_true(v == UINT64_MAX);
  assert_int_equal(ft_parse_u64("18446744073709551616", &v), -1);
  assert_int_equal(ft_parse_u64("1 ", &v), -1);
  assert_int_equal(ft_parse_u64("", &v), -1);
}

static void expand_output(void **state) {
  (void)state;
  char out[64];
  assert_int_equal(ft_expand_output("a.%p.%t.%%.db", 42, 1700000000, out, sizeof out), 0);
  assert_string_equal(out, "a.42.1700000000.%.db");
  assert_int_equal(ft_expand_output("%p", 7, 0, out, 2), 0);
  assert_string_equal(out, "7");
  assert_int_equal(ft_expand_output("%p", 77, 0, out, 2), -1);
  assert_int_equal(ft_expand_output("x%", 1, 0, out, sizeof out), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(defaults, reset),
      cmocka_unit_test_setup(valid_values, reset),
      cmocka_unit_test_setup(sampler_sources, reset),
      cmocka_unit_test_setup(sampler_sources_bad, reset),
      cmocka_unit_test_setup(bad_values_warn_once_each_and_keep_defaults, reset),
      cmocka_unit_test_setup(bad_output_template, reset),
      cmocka_unit_test_setup(parse_long_edges, reset),
      cmocka_unit_test_setup(expand_output, reset),
      cmocka_unit_test_setup(production_values, reset),
      cmocka_unit_test_setup(production_bad_values, reset),
      cmocka_unit_test_setup(production_edges, reset),
      cmocka_unit_test_setup(signal_names, reset),
      cmocka_unit_test_setup(parse_bytes_and_u64, reset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
