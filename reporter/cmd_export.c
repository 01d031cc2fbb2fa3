/* cmd_export.c — `fragtrace export` (being written). */
#include "ft_cli.h"

int ft_cmd_export(int argc, char **argv) {
  (void)argc;
  (void)argv;
  ft_errorf("export: not implemented yet");
  return FT_EXIT_USAGE;
}
