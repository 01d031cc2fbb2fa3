/* cmd_report.c — `fragtrace report` (being written). */
#include "ft_cli.h"

int ft_cmd_report(int argc, char **argv) {
  (void)argc;
  (void)argv;
  ft_errorf("report: not implemented yet");
  return FT_EXIT_USAGE;
}

int ft_cmd_query(int argc, char **argv) {
  (void)argc;
  (void)argv;
  ft_errorf("query: not implemented yet");
  return FT_EXIT_USAGE;
}
