/*
** ft_prim.c — the OS behind the shim (see ft_prim.h). Raw syscalls where the
** libc wrapper would come back into our own hooks (mmap, munmap).
*/
#include "ft_prim.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int ft_tsc_mode;

int ft_ticks_init(void) {
#if defined(__x86_64__)
  /* The kernel keeps "tsc" as its clocksource only when the TSC is invariant
  ** and synchronized across CPUs: exactly what cross-thread ordering needs. */
  char cs[64];
  if (ft_read_small_file("/sys/devices/system/clocksource/clocksource0/current_clocksource", cs,
                         sizeof cs) > 0 &&
      strncmp(cs, "tsc", 3) == 0 && (cs[3] == '\n' || cs[3] == 0))
    ft_tsc_mode = 1;
#endif
  return ft_tsc_mode;
}

uint64_t ft_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t ft_unix_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void *ft_os_alloc(size_t bytes) {
  long p = syscall(SYS_mmap, NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == -1) return NULL;
  return (void *)p;
}

void *ft_os_alloc_populated(size_t bytes) {
  long p = syscall(SYS_mmap, NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == -1) return NULL;
  return (void *)p;
}

void ft_os_free(void *p, size_t bytes) {
  if (p) syscall(SYS_munmap, p, bytes);
}

int ft_writev_all(int fd, struct iovec *iov, int n) {
  while (n > 0) {
    ssize_t w = writev(fd, iov, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    /* Advance past what was written; a short write resumes mid-iovec. */
    while (n > 0 && (size_t)w >= iov->iov_len) {
      w -= (ssize_t)iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = (char *)iov->iov_base + w;
      iov->iov_len -= (size_t)w;
    }
  }
  return 0;
}

int ft_open_high(const char *path, int flags, mode_t mode) {
  int low = open(path, flags | O_CLOEXEC, mode);
  if (low < 0 || low >= FT_FD_HIGH) return low;
  int high = fcntl(low, F_DUPFD_CLOEXEC, FT_FD_HIGH);
  if (high < 0) return low;
  /* Close the low number only while it is still ours: a close-everything loop
  ** in the program may have closed it and reopened a file of its own there. */
  struct stat a, b;
  if (fstat(low, &a) == 0 && fstat(high, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) close(low);
  return high;
}

ssize_t ft_read_small_file(const char *path, char *buf, size_t cap) {
  int fd = ft_open_high(path, O_RDONLY, 0);
  if (fd < 0) return -1;
  size_t len = 0;
  while (len + 1 < cap) {
    ssize_t r = read(fd, buf + len, cap - 1 - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
  }
  close(fd);
  buf[len] = 0;
  return (ssize_t)len;
}

void ft_futex_wait(atomic_uint *word, unsigned expected, uint64_t timeout_ns) {
  struct timespec ts = {(time_t)(timeout_ns / 1000000000u), (long)(timeout_ns % 1000000000u)};
  syscall(SYS_futex, (unsigned *)word, FUTEX_WAIT_PRIVATE, expected, timeout_ns ? &ts : NULL, NULL, 0);
}

void ft_futex_wake(atomic_uint *word) {
  syscall(SYS_futex, (unsigned *)word, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
}

int ft_gettid(void) { return (int)syscall(SYS_gettid); }

void ft_warn3(const char *a, const char *b, const char *c) {
  struct iovec iov[5];
  int n = 0;
  iov[n].iov_base = (void *)"fragtrace: ";
  iov[n++].iov_len = 11;
  const char *parts[3] = {a, b, c};
  for (int i = 0; i < 3; i++)
    if (parts[i]) {
      iov[n].iov_base = (void *)parts[i];
      iov[n++].iov_len = strlen(parts[i]);
    }
  iov[n].iov_base = (void *)"\n";
  iov[n++].iov_len = 1;
  ft_writev_all(2, iov, n);
}
