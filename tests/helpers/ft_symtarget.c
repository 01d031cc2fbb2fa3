/*
** ft_symtarget.c — helper run by unit_symbolize. Built as a non-PIE
** executable (ET_EXEC at its link address) linked with libft_symlib.so, it
** prints return addresses captured at known lines in itself and in the
** library, then its own /proc/self/maps, for the test to symbolize offline:
**
**   pid <pid>
**   frame <hex ip> <function> <line>     (one per captured address)
**   maps
**   <the /proc/self/maps text>
*/
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

uintptr_t ft_symlib_capture(int *line);

/* The return address of this call is in the caller, at the call's line. */
static __attribute__((noinline)) uintptr_t ft_target_return_address(void) {
  uintptr_t ra = (uintptr_t)__builtin_return_address(0);
  __asm__ volatile("" : "+r"(ra) : : "memory");
  return ra;
}

int main(void) {
  int lib_line = 0;
  uintptr_t lib_ip = ft_symlib_capture(&lib_line);
  uintptr_t exe_ip = ft_target_return_address(); int exe_line = __LINE__;

  printf("pid %ld\n", (long)getpid());
  printf("frame %" PRIxPTR " main %d\n", exe_ip, exe_line);
  printf("frame %" PRIxPTR " ft_symlib_capture %d\n", lib_ip, lib_line);
  printf("maps\n");
  FILE *f = fopen("/proc/self/maps", "r");
  if (f == NULL) return 1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
  fclose(f);
  return 0;
}
