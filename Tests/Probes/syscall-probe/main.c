// syscall-probe: runs inside a jail and tries syscalls, one line per attempt:
//   NAME OK          the call succeeded
//   NAME EPERM       the call failed with that errno (by its symbolic name)
//   NAME SIGSYS      the attempt was killed by that signal (seccomp KILL, TRAP)
//   NAME EXITED      the raw call ended the attempt (exit, exit_group)
//   NAME UNKNOWN / BADARG / SKIPPED   nothing was tried
// Usage: syscall-probe [NAME=NR ...] [WORD ...]; always exits 0.
//   NAME=NR  raw syscall(NR, -1, -1, -1, -1, -1, -1): -1 is an invalid fd, an
//            invalid pointer and invalid flags at once, so an allowed call fails
//            in the kernel's own checks (zero would make clone a fork and
//            unshare a successful no-op). vfork is not tried: SKIPPED.
//   WORD     one of the named probes below, each with harmless arguments.
// Every attempt runs in a forked child (with a 2 s alarm), so a call that kills,
// exits or blocks does not end the run, and one that succeeds changes nothing
// for the next. Where fork itself is denied, attempts run in this process.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

// A forked namespace child must not run any more of the probe.
static long fork_like(long rc) {
    if (rc == 0) _exit(0);
    if (rc > 0) waitpid((pid_t)rc, NULL, __WALL);
    return rc;
}

static long close_fd(long rc) {
    if (rc >= 0) close((int)rc);
    return rc;
}

static long p_clone_newuser(void) { return fork_like(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)); }
static long p_clone_newns(void) { return fork_like(syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0)); }
static long p_clone3(void) {
    struct clone_args args = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
    return fork_like(syscall(SYS_clone3, &args, sizeof args));
}
static long p_unshare_user(void) { return syscall(SYS_unshare, CLONE_NEWUSER); }
static long p_socket_vsock(void) { return close_fd(socket(AF_VSOCK, SOCK_STREAM, 0)); }
static long p_socket_alg(void) { return close_fd(socket(AF_ALG, SOCK_SEQPACKET, 0)); }
static long p_io_uring(void) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    return close_fd(syscall(SYS_io_uring_setup, 1, &params));
}
static long p_ptrace_traceme(void) { return ptrace(PTRACE_TRACEME, 0, NULL, NULL); }
// KEYCTL_GET_KEYRING_ID (0) of the session keyring (-3), without creating it.
static long p_keyctl(void) { return syscall(SYS_keyctl, 0, -3, 0); }
static long p_bpf(void) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr); // a map of type 0 (unspec): EINVAL if it gets that far
    return close_fd(syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
}
// The target does not exist: ENOENT if the filter and the capabilities let it through.
static long p_mount_tmpfs(void) { return mount("tmpfs", "/syscall-probe-nonexistent", "tmpfs", 0, ""); }
static long p_setns(void) { return syscall(SYS_setns, -1, 0); }
static long p_chroot(void) { return chroot("/"); }
static long p_perf_event_open(void) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.disabled = 1;
    return close_fd(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
}
static long p_userfaultfd(void) { return close_fd(syscall(SYS_userfaultfd, O_CLOEXEC)); }
static long p_init_module(void) { return syscall(SYS_init_module, NULL, 0, ""); }
static long p_kexec_load(void) { return syscall(SYS_kexec_load, 0, 0, NULL, -1L); } // invalid flags
static long p_reboot(void) { return syscall(SYS_reboot, 0, 0, 0, NULL); }             // invalid magic

static const struct { const char *name; long (*run)(void); } probes[] = {
    {"clone-newuser", p_clone_newuser}, {"clone-newns", p_clone_newns},
    {"clone3", p_clone3}, {"unshare-user", p_unshare_user},
    {"socket-vsock", p_socket_vsock}, {"socket-alg", p_socket_alg},
    {"io_uring", p_io_uring}, {"ptrace-traceme", p_ptrace_traceme},
    {"keyctl", p_keyctl}, {"bpf", p_bpf},
    {"mount-tmpfs", p_mount_tmpfs}, {"setns", p_setns},
    {"chroot", p_chroot}, {"perf_event_open", p_perf_event_open},
    {"userfaultfd", p_userfaultfd}, {"init_module", p_init_module},
    {"kexec_load", p_kexec_load}, {"reboot", p_reboot},
};

static long raw_nr = -1;
static long p_raw(void) {
    pid_t self = getpid();
    long rc = syscall(raw_nr, -1L, -1L, -1L, -1L, -1L, -1L);
    if (rc == 0 && getpid() != self) _exit(0); // the new process of a fork
    return rc;
}

static void report(const char *name, long rc, int err) {
    if (rc >= 0) printf("%s OK\n", name);
    else printf("%s %s\n", name, strerrorname_np(err) ? strerrorname_np(err) : "E?");
    fflush(stdout);
}

static void attempt(const char *name, long (*run)(void)) {
    pid_t pid = fork();
    if (pid < 0) { // fork denied: try in this process
        errno = 0;
        long rc = run();
        report(name, rc, errno);
        return;
    }
    if (pid == 0) {
        alarm(2);
        errno = 0;
        long rc = run();
        report(name, rc, errno);
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFSIGNALED(status)) {
        printf("%s SIG%s\n", name, sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        printf("%s EXITED\n", name); // the raw call was exit or exit_group
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: %s NAME=NR ... | WORD ...\nwords:", argv[0]);
        for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) fprintf(stderr, " %s", probes[i].name);
        fprintf(stderr, "\n");
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (eq) {
            char *end = NULL;
            raw_nr = strtol(eq + 1, &end, 0);
            *eq = '\0';
            if (end == eq + 1 || *end != '\0' || raw_nr < 0) {
                printf("%s BADARG\n", argv[i]);
                continue;
            }
            if (raw_nr == SYS_vfork) { // its child would run on this stack
                printf("%s SKIPPED\n", argv[i]);
                continue;
            }
            attempt(argv[i], p_raw);
            continue;
        }
        size_t k = 0, n = sizeof probes / sizeof probes[0];
        while (k < n && strcmp(probes[k].name, argv[i]) != 0) k++;
        if (k < n) attempt(probes[k].name, probes[k].run);
        else printf("%s UNKNOWN\n", argv[i]);
    }
    return 0;
}
