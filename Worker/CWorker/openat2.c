#include "cworker.h"

#include <errno.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

int wk_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve) {
    struct open_how how = { .flags = (uint64_t)flags, .mode = (uint64_t)mode, .resolve = resolve };
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    return fd < 0 ? -errno : (int)fd;
}
