// The cgroup janitor: a process that outlives its caller to remove the
// cgroup directories the caller made.
//
// Nothing inside a jail can remove a cgroup (the parent directories belong to
// the host's root), and a caller killed with SIGKILL cannot clean up after
// itself. The janitor is forked from the caller, waits for it to end (or to
// ask), then removes every matching directory, deepest first, retrying while
// the killed jails' tasks are still leaving. It never execs, so like the rest
// of the spawn path it only makes raw syscalls: no malloc, no stdio, no locks.
#define _GNU_SOURCE
#include "csandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define JANITOR_MAX_DEPTH 16

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int starts_with(const char *s, const char *prefix) {
    while (*prefix) {
        if (*s++ != *prefix++) return 0;
    }
    return 1;
}

static int is_dot(const char *name) {
    return name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0));
}

// Calls visit(fd, name, arg) for each subdirectory of the directory `fd`;
// returns how many visits failed. Stack buffers only, one per level.
static int for_each_subdirectory(int fd, int (*visit)(int, const char *, const void *), const void *arg) {
    int failed = 0;
    char buf[2048] __attribute__((aligned(8)));
    for (;;) {
        long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (n <= 0) break;
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
            off += d->d_reclen;
            if (d->d_type == DT_DIR && !is_dot(d->d_name) && visit(fd, d->d_name, arg) < 0) failed++;
        }
    }
    return failed;
}

// Removes `name` below `parent_fd` and every directory in it. A cgroup
// directory holds only control files (which go with it) and child cgroups.
// Returns 0, or -1 when something is still busy or could not be removed.
static int remove_tree(int parent_fd, const char *name, const void *depth_arg) {
    int depth = *(const int *)depth_arg;
    if (depth >= JANITOR_MAX_DEPTH) return -1;
    int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : -1;
    int deeper = depth + 1;
    int failed = for_each_subdirectory(fd, remove_tree, &deeper);
    close(fd);
    if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) failed++;
    return failed ? -1 : 0;
}

static int remove_if_matching(int parent_fd, const char *name, const void *prefix) {
    static const int top = 0;
    return starts_with(name, prefix) ? remove_tree(parent_fd, name, &top) : 0;
}

// One pass over every parent; returns how many matching directories remain.
static int sweep(const struct wd_janitor_config *cfg) {
    int left = 0;
    for (size_t i = 0; i < cfg->n_parents; i++) {
        int fd = open(cfg->parents[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) continue;
        left += for_each_subdirectory(fd, remove_if_matching, cfg->prefix);
        close(fd);
    }
    return left;
}

static void close_all_but(const int *keep, size_t n) {
    // Close the gaps between the kept descriptors, lowest first.
    unsigned int from = 0;
    for (;;) {
        int next = -1;
        for (size_t i = 0; i < n; i++) {
            if (keep[i] >= (int)from && (next < 0 || keep[i] < next)) next = keep[i];
        }
        if (next < 0) break;
        if ((unsigned int)next > from) syscall(SYS_close_range, from, (unsigned int)next - 1, 0);
        from = (unsigned int)next + 1;
    }
    syscall(SYS_close_range, from, ~0U, 0);
}

// Reads field `index` (1-based, as proc(5) numbers them) of /proc/self/stat.
static unsigned long stat_field(int index) {
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *p = buf + n;
    while (p > buf && *p != ')') p--; // the command name may hold spaces
    int field = 2;
    while (*p && field < index) {
        if (*p++ == ' ') field++;
    }
    unsigned long v = 0;
    while (*p >= '0' && *p <= '9') v = v * 10 + (unsigned long)(*p++ - '0');
    return v;
}

// This copy of the caller would show the caller's command line (and its
// arguments, a state directory say): write the title over it.
static void retitle(const char *title) {
    char *start = (char *)stat_field(48), *end = (char *)stat_field(49);
    if (!start || end <= start) return;
    size_t room = (size_t)(end - start);
    memset(start, 0, room);
    for (size_t i = 0; title[i] && i + 1 < room; i++) start[i] = title[i];
    prctl(PR_SET_NAME, "warden-janitor", 0, 0, 0);
}

__attribute__((noreturn))
static void janitor_main(const struct wd_janitor_config *cfg, pid_t caller) {
    // Signals aimed at the caller's process group (a terminal's ^C) are not ours.
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    setsid();
    if (cfg->title) retitle(cfg->title);

    int caller_fd = (int)syscall(SYS_pidfd_open, caller, 0);
    int keep[WD_JANITOR_MAX_KEEP + 2];
    size_t n_keep = 0;
    for (size_t i = 0; i < cfg->n_keep_fds && i < WD_JANITOR_MAX_KEEP; i++) keep[n_keep++] = cfg->keep_fds[i];
    keep[n_keep++] = cfg->wake_fd;
    if (caller_fd >= 0) keep[n_keep++] = caller_fd;
    close_all_but(keep, n_keep);

    // The caller may have died before its pidfd was taken: then the parent changed.
    // Until then, each wake (a byte on the pipe) asks for a cleanup now; a
    // cleanup that leaves nothing ends the janitor. Once the caller has ended
    // (its pidfd fires, or the pipe reads end of file) the last one runs.
    struct timespec step = { .tv_sec = 0, .tv_nsec = 10 * 1000 * 1000 };
    for (;;) {
        int caller_alive = caller_fd >= 0 && getppid() == caller;
        if (caller_alive) {
            struct pollfd fds[2] = { { .fd = caller_fd, .events = POLLIN }, { .fd = cfg->wake_fd, .events = POLLIN } };
            while (poll(fds, 2, -1) < 0 && errno == EINTR) {}
            char drain[64];
            caller_alive = !(fds[0].revents & POLLIN) && read(cfg->wake_fd, drain, sizeof drain) > 0;
        }
        // The caller's jails were killed with it, but their tasks take a moment to leave.
        int left = sweep(cfg);
        for (int waited = 0; left > 0 && waited < cfg->timeout_ms; waited += 10) {
            nanosleep(&step, NULL);
            left = sweep(cfg);
        }
        if (left == 0 || !caller_alive) _exit(0);
    }
}

pid_t wd_janitor_spawn(const struct wd_janitor_config *cfg, int *pidfd) {
    if (cfg->n_keep_fds > WD_JANITOR_MAX_KEEP) return -E2BIG;
    pid_t caller = getpid();
    *pidfd = -1;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_PIDFD;
    args.pidfd = (uint64_t)(uintptr_t)pidfd;
    args.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) janitor_main(cfg, caller);
    return pid < 0 ? -errno : (pid_t)pid;
}
