/*
** test_ctl.c — `fragtrace ctl`: controlling the recording of a running
** process. Usage errors and untraced targets fail with their documented
** statuses and one line, and never signal anything; a traced service
** started paused records exactly the allocations it made between a resume
** and a pause sent with `ctl`, while the exact totals count all of them.
*/
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ft_itest.h"

static void expect_one_line(const ft_run *r) {
  if (ft_count_lines(r->err) != 1 || strncmp(r->err, "fragtrace:", 10) != 0)
    fail_msg("expected exactly one 'fragtrace:' line on stderr, got:\n%s", r->err);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void test_usage_errors(void **state) {
  (void)state;
  static const char *const bad[][6] = {
      {"ctl", NULL},
      {"ctl", "pause", NULL},
      {"ctl", "bogus", "1", NULL},
      {"ctl", "pause", "12abc", NULL},
      {"ctl", "pause", "0", NULL},
      {"ctl", "--signal", "KILL", "pause", "1", NULL},
      {"ctl", "--signal", "RTMIN+99", "pause", "1", NULL},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *argv[8] = {FT_BIN};
    for (int k = 0; bad[i][k]; k++) argv[k + 1] = bad[i][k];
    ft_run r;
    ft_run_cmd(&r, NULL, argv);
    ft_expect_status(&r, 2);
    expect_one_line(&r);
    ft_run_free(&r);
  }
}

/* A process without the shim is refused (status 3) and keeps running: the
** default action of the control signal would have killed it. */
static void test_untraced_target_is_not_signalled(void **state) {
  (void)state;
  ft_run victim;
  ft_start(&victim, NULL, FT_ARGV("sleep", "5"));
  sleep_ms(100);
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "ctl", "pause", ft_fmt("%d", (int)victim.pid)));
  ft_expect_status(&r, 3);
  expect_one_line(&r);
  ft_expect_true("the untraced process still runs", kill(victim.pid, 0) == 0);
  ft_run_free(&r);
  /* A pid that does not exist. */
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "ctl", "flush", "2147483646"));
  ft_expect_status(&r, 3);
  expect_one_line(&r);
  ft_run_free(&r);
  kill(victim.pid, SIGTERM);
  ft_wait(&victim, 10);
  ft_run_free(&victim);
}

/* The pid the traced program printed ("pid=N") into record's stdout file. */
static int wait_for_pid(const ft_run *rec) {
  for (int i = 0; i < 200; i++) {
    char *out = ft_read_file(rec->out_path);
    const char *p = out ? strstr(out, "pid=") : NULL;
    int pid = p ? atoi(p + 4) : 0;
    free(out);
    if (pid > 0) return pid;
    sleep_ms(25);
  }
  fail_msg("the traced program did not print its pid");
  return -1;
}

static void ctl(const char *action, int pid) {
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "ctl", action, ft_fmt("%d", pid)));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  ft_run_free(&r);
}

/* Started paused: nothing recorded until `ctl resume`, nothing after `ctl
** pause`; the exact totals still count every allocation of the program. */
static void test_resume_and_pause_a_running_service(void **state) {
  (void)state;
  const char *db = ft_tmp_path("ctl.db");
  ft_remove(db);
  ft_run rec;
  ft_start(&rec, FT_ENV("FRAGTRACE_PAUSED=1"),
           FT_ARGV(FT_BIN, "record", "-q", "-o", db, "--", ft_prog("ctlwait"), "1.5"));
  int pid = wait_for_pid(&rec);
  sleep_ms(200);
  ctl("resume", pid);
  sleep_ms(300);
  ctl("pause", pid);
  ft_wait(&rec, 60);
  ft_expect_status(&rec, 0);
  long long made = ft_kv(rec.out, "done");
  ft_run_free(&rec);

  sqlite3 *db3 = ft_db_open(db);
  ft_expect_eq("control records", ft_q_int(db3, "SELECT count(*) FROM recording_control"), 3);
  ft_expect_true("started paused",
                 !strcmp(ft_q_str(db3, "SELECT action || '/' || source FROM recording_control ORDER BY t_ns LIMIT 1"),
                         "pause/start"));
  ft_expect_true("resumed by the signal",
                 !strcmp(ft_q_str(db3, "SELECT action || '/' || source FROM recording_control ORDER BY t_ns LIMIT 1 "
                                       "OFFSET 1"),
                         "resume/signal"));
  ft_expect_true("paused by the signal",
                 !strcmp(ft_q_str(db3, "SELECT action || '/' || source FROM recording_control ORDER BY t_ns LIMIT 1 "
                                       "OFFSET 2"),
                         "pause/signal"));
  long long t_on = ft_q_int(db3, "SELECT t_ns FROM recording_control WHERE action = 'resume'");
  long long t_off = ft_q_int(db3, "SELECT t_ns FROM recording_control WHERE action = 'pause' AND source = 'signal'");
  ft_expect_true("resume before pause", t_on < t_off);
  long long rows = ft_q_int(db3, "SELECT count(*) FROM allocations WHERE kind != 'mmap'");
  ft_expect_true("allocations recorded while resumed", rows > 1000);
  ft_expect_true("fewer than the program made", rows < made);
  ft_expect_eq("no row allocated outside [resume, pause]",
               ft_q_int(db3, "SELECT count(*) FROM allocations WHERE kind != 'mmap' AND (t_alloc_ns < %lld OR "
                             "t_alloc_ns > %lld)",
                        t_on, t_off),
               0);
  /* Every 64-byte block is the program's; the totals count all of them, the
  ** rows only those made while recording. */
  long long total = ft_q_int(db3, "SELECT allocations FROM heap_totals ORDER BY t_ns DESC LIMIT 1");
  ft_expect_true("totals count every allocation", total >= made && total <= made + 4);
  ft_expect_eq("totals: only stdout's buffer is live at exit",
               ft_q_int(db3, "SELECT allocations - frees FROM heap_totals ORDER BY t_ns DESC LIMIT 1"), 1);
  ft_expect_eq("no event dropped", ft_q_int(db3, "SELECT sum(events_dropped) FROM processes"), 0);
  sqlite3_close(db3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_untraced_target_is_not_signalled),
      cmocka_unit_test(test_resume_and_pause_a_running_service),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
