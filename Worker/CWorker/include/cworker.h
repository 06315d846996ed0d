// What the worker needs from Linux that Swift's Glibc module does not show.
#ifndef CWORKER_H
#define CWORKER_H

#include <stdint.h>
#include <sys/types.h>

// openat2(2) resolve flags.
#define WK_RESOLVE_NO_XDEV       0x01
#define WK_RESOLVE_NO_MAGICLINKS 0x02
#define WK_RESOLVE_NO_SYMLINKS   0x04
#define WK_RESOLVE_BENEATH       0x08

// openat2 (a raw syscall: glibc 2.36 has no wrapper). Returns the fd, or -errno.
int wk_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve);

// pipe2(fds, O_CLOEXEC) (glibc declares pipe2 only with _GNU_SOURCE). Returns 0 or -errno.
int wk_pipe_cloexec(int fds[2]);

#endif
