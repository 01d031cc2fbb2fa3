/* cmd_diff.c — `fragtrace diff` (being written). */
#include "ft_cli.h"

int ft_cmd_diff(int argc, char **argv) {
  (void)argc;
  (void)argv;
  ft_errorf("diff: not implemented yet");
  return FT_EXIT_USAGE;
}
