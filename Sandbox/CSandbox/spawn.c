// The caller's side of a jail start: clone3 into new namespaces, write the
// id maps and cgroup membership, release the child, and collect a setup error.
#define _GNU_SOURCE
#include "csandbox.h"
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

static void set_error(struct wd_spawned *out, int err, const char *what) {
    out->error_errno = err;
    snprintf(out->error, sizeof out->error, "%s: %s", what, strerror(err));
}

static int write_file(pid_t pid, const char *name, const char *contents) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    size_t len = strlen(contents);
    ssize_t n = write(fd, contents, len);
    int err = n == (ssize_t)len ? 0 : (n < 0 ? -errno : -EIO);
    close(fd);
    return err;
}

static int write_pid(int fd, pid_t pid) {
    char buf[24];
    int len = snprintf(buf, sizeof buf, "%d\n", (int)pid);
    return write(fd, buf, (size_t)len) == len ? 0 : -errno;
}

// Reads the child's setup error: an int errno then a message; EOF alone
// means the payload reached execve.
static int read_child_error(int fd, struct wd_spawned *out) {
    char buf[sizeof(int) + sizeof out->error];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
        if (got >= sizeof buf - 1) break;
    }
    if (got < sizeof(int)) return 0;
    int err;
    memcpy(&err, buf, sizeof err);
    buf[got] = 0;
    out->error_errno = err;
    snprintf(out->error, sizeof out->error, "%s: %s", buf + sizeof(int), strerror(err));
    return -1;
}

static void abandon(pid_t pid, int pidfd) {
    if (pidfd >= 0) {
        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        close(pidfd);
    } else if (pid > 0) {
        kill(pid, SIGKILL);
    }
    if (pid > 0) {
        while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {}
    }
}

int wd_spawn(const struct wd_config *cfg, struct wd_spawned *out) {
    memset(out, 0, sizeof *out);
    out->pid = -1;
    out->pidfd = -1;
    out->report_fd = -1;
    out->error_fd = -1;

    int sync_pipe[2], err_pipe[2], report_pipe[2];
    if (pipe2(sync_pipe, O_CLOEXEC) < 0) { set_error(out, errno, "pipe"); return -1; }
    if (pipe2(err_pipe, O_CLOEXEC) < 0) {
        set_error(out, errno, "pipe");
        close(sync_pipe[0]); close(sync_pipe[1]);
        return -1;
    }
    if (pipe2(report_pipe, O_CLOEXEC) < 0) {
        set_error(out, errno, "pipe");
        close(sync_pipe[0]); close(sync_pipe[1]); close(err_pipe[0]); close(err_pipe[1]);
        return -1;
    }

    // Joining a network namespace is per thread: switch this thread, clone,
    // and switch back, so the rest of the process never changes namespace.
    int saved_net = -1;
    if (cfg->join_netns_fd >= 0) {
        saved_net = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (saved_net < 0 || setns(cfg->join_netns_fd, CLONE_NEWNET) < 0) {
            set_error(out, errno, "join network namespace");
            if (saved_net >= 0) close(saved_net);
            goto fail_pipes;
        }
    }

    int pidfd = -1;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_PIDFD;
    if (cfg->new_net) args.flags |= CLONE_NEWNET;
    if (cfg->cgroup_v2_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cfg->cgroup_v2_fd;
    }
    args.pidfd = (uint64_t)(uintptr_t)&pidfd;
    args.exit_signal = SIGCHLD;

    long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        // The child: a copy of this process with one thread. Never returns.
        wd_child_main(cfg, sync_pipe[0], err_pipe[1], report_pipe[1]);
    }
    int clone_errno = errno;

    if (saved_net >= 0) {
        // Failing to switch back would leave this thread in the jail's network.
        if (setns(saved_net, CLONE_NEWNET) < 0) abort();
        close(saved_net);
    }
    close(sync_pipe[0]);
    close(err_pipe[1]);
    close(report_pipe[1]);
    if (pid < 0) {
        set_error(out, clone_errno, "clone3");
        close(sync_pipe[1]); close(err_pipe[0]); close(report_pipe[0]);
        return -1;
    }

    int rc;
    if (cfg->deny_setgroups && (rc = write_file((pid_t)pid, "setgroups", "deny")) < 0) {
        set_error(out, -rc, "write setgroups");
        goto fail_child;
    }
    if ((rc = write_file((pid_t)pid, "uid_map", cfg->uid_map)) < 0) {
        set_error(out, -rc, "write uid_map");
        goto fail_child;
    }
    if ((rc = write_file((pid_t)pid, "gid_map", cfg->gid_map)) < 0) {
        set_error(out, -rc, "write gid_map");
        goto fail_child;
    }
    for (size_t i = 0; i < cfg->n_cgroup_procs; i++) {
        if ((rc = write_pid(cfg->cgroup_procs_fds[i], (pid_t)pid)) < 0) {
            set_error(out, -rc, "join cgroup");
            goto fail_child;
        }
    }
    if (write(sync_pipe[1], "g", 1) != 1) {
        set_error(out, errno, "release child");
        goto fail_child;
    }
    close(sync_pipe[1]);

    if (cfg->armed) {
        // Its root is built meanwhile; wd_fire reads how that went.
        out->pid = (pid_t)pid;
        out->pidfd = pidfd;
        out->report_fd = report_pipe[0];
        out->error_fd = err_pipe[0];
        return 0;
    }
    if (read_child_error(err_pipe[0], out) < 0) {
        close(err_pipe[0]);
        close(report_pipe[0]);
        abandon((pid_t)pid, pidfd);
        return -1;
    }
    close(err_pipe[0]);
    out->pid = (pid_t)pid;
    out->pidfd = pidfd;
    out->report_fd = report_pipe[0];
    return 0;

fail_child:
    close(sync_pipe[1]);
    close(err_pipe[0]);
    close(report_pipe[0]);
    abandon((pid_t)pid, pidfd);
    return -1;

fail_pipes:
    close(sync_pipe[0]); close(sync_pipe[1]);
    close(err_pipe[0]); close(err_pipe[1]);
    close(report_pipe[0]); close(report_pipe[1]);
    return -1;
}

int wd_fire(int arm_fd, int error_fd, struct wd_spawned *out) {
    out->error_errno = 0;
    out->error[0] = 0;
    char go = 'f';
    ssize_t n;
    do { n = send(arm_fd, &go, 1, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    int send_errno = errno;
    // A jail that failed while arming has written why before it ended.
    if (read_child_error(error_fd, out) < 0) return -1;
    if (n != 1) {
        set_error(out, send_errno, "fire the armed jail");
        return -1;
    }
    return 0;
}

int wd_netns_create(void) {
    int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (saved < 0) return -errno;
    if (unshare(CLONE_NEWNET) < 0) {
        int err = errno;
        close(saved);
        return -err;
    }
    int err = wd_loopback_up();
    int fd = err == 0 ? open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC) : -1;
    if (err == 0 && fd < 0) err = -errno;
    if (setns(saved, CLONE_NEWNET) < 0) abort();
    close(saved);
    return err < 0 ? err : fd;
}

int wd_netns_listen(int netns_fd, uint16_t port, uint16_t *bound) {
    int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (saved < 0) return -errno;
    if (setns(netns_fd, CLONE_NEWNET) < 0) {
        int err = errno;
        close(saved);
        return -err;
    }
    int err = 0;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) err = errno;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (!err && (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, 128) < 0
                 || getsockname(s, (struct sockaddr *)&addr, &length) < 0)) err = errno;
    // Failing to switch back would leave this thread in the other namespace.
    if (setns(saved, CLONE_NEWNET) < 0) abort();
    close(saved);
    if (err) {
        if (s >= 0) close(s);
        return -err;
    }
    *bound = ntohs(addr.sin_port);
    return s;
}

int wd_pidfd_signal(int pidfd, int sig) {
    return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

int wd_pidfd_wait(int pidfd, int timeout_ms) {
    struct pollfd p = { .fd = pidfd, .events = POLLIN };
    for (;;) {
        int n = poll(&p, 1, timeout_ms);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        return n > 0 ? 1 : 0;
    }
}

int wd_reap(pid_t pid) {
    for (;;) {
        if (waitpid(pid, NULL, __WALL) >= 0) return 0;
        if (errno != EINTR) return -errno;
    }
}

int wd_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int wd_memfd(const char *name) { return memfd_create(name, MFD_CLOEXEC); }
