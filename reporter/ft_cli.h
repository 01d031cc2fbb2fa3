/*
** ft_cli.h — the `fragtrace` command's subcommands and their shared helpers.
**
** Exit statuses: `record` returns the command's own status (128+N when it
** died of signal N), or 125 when fragtrace itself fails (usage, output),
** 126 when the command cannot be executed, 127 when it is not found.
** The other subcommands: 0 ok, 1 a gate tripped, 2 usage or input error.
*/
#ifndef FT_CLI_H
#define FT_CLI_H

#define FT_EXIT_RECORD_ERROR 125
#define FT_EXIT_USAGE 2

#define FT_EXIT_GATE 1

int ft_cmd_record(int argc, char **argv);
int ft_cmd_import(int argc, char **argv);
int ft_cmd_sample(int argc, char **argv); /* cmd_sample.c: system sampling without a target */
int ft_cmd_report(int argc, char **argv); /* cmd_report.c */
int ft_cmd_export(int argc, char **argv); /* cmd_export.c */
int ft_cmd_diff(int argc, char **argv);   /* cmd_diff.c */
int ft_cmd_query(int argc, char **argv);  /* cmd_report.c: run SQL on a trace, read-only */
int ft_cmd_ctl(int argc, char **argv);    /* cmd_ctl.c: pause/resume/flush/stop a traced process */

/* Directory holding this executable (for finding ../lib/libfragtrace.so). */
int ft_self_dir(char *out, unsigned cap);

/* One line "fragtrace: ..." on stderr. */
void ft_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Import the given spills into path (created or appended), symbolize, and
** optionally delete the spills. Prints a summary unless quiet. 0 or -1. */
int ft_import_and_symbolize(const char *path, char **spills, int n, int remove_spills, int quiet,
                            int exit_pid, int exit_status);

#endif
