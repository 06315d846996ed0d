// The jail's side of a start. Runs in a fresh child of a multi-threaded
// process, so only raw syscalls and async-signal-safe calls appear here: no
// malloc, no stdio, no locks. Data comes prepared from the caller.
//
// The cloned child assembles the root, then forks the payload and stays as
// the jail's pid 1: it reaps, forwards signals, kills everything left when the
// payload ends, and reports how the payload ended.
#define _GNU_SOURCE
#include "csandbox.h"
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// ---------------------------------------------------------------- errors

static size_t str_len(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

// Sends errno and a short description to the caller, then exits.
__attribute__((noreturn))
static void die(int err_fd, const char *what, const char *detail) {
    int err = errno;
    char buf[512];
    size_t len = 0;
    memcpy(buf, &err, sizeof err);
    len += sizeof err;
    for (const char *p = what; *p && len < sizeof buf - 1; p++) buf[len++] = *p;
    if (detail) {
        if (len < sizeof buf - 2) { buf[len++] = ' '; }
        for (const char *p = detail; *p && len < sizeof buf - 1; p++) buf[len++] = *p;
    }
    ssize_t ignored = write(err_fd, buf, len);
    (void)ignored;
    _exit(127);
}

// ---------------------------------------------------------------- paths

// Makes every missing directory of a path relative to the current directory
// (the staging root). With `last` the final component is created too.
static int make_dirs(const char *rel, int last, unsigned int mode) {
    char buf[4096];
    size_t n = str_len(rel);
    if (n >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
    memcpy(buf, rel, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        if (buf[i] == 0 && !last) break;
        char saved = buf[i];
        buf[i] = 0;
        if (mkdir(buf, saved == 0 ? mode : 0755) < 0 && errno != EEXIST) return -1;
        buf[i] = saved;
    }
    return 0;
}

static int make_parent_dirs(const char *rel) { return make_dirs(rel, 0, 0755); }

static const char *relative(const char *target) {
    while (*target == '/') target++;
    return *target ? target : ".";
}

static void fd_path(char *buf, int fd) {
    const char prefix[] = "/proc/self/fd/";
    size_t len = sizeof prefix - 1;
    memcpy(buf, prefix, len);
    char digits[16];
    int nd = 0;
    unsigned int v = (unsigned int)fd;
    do { digits[nd++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (nd) buf[len++] = digits[--nd];
    buf[len] = 0;
}

static int write_all(int fd, const char *data, size_t len) {
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

// ---------------------------------------------------------------- the root

static void apply_mount(const struct wd_mount *m, int source_fd, int err_fd) {
    const char *target = relative(m->target);
    char src[40];
    switch (m->kind) {
    case WD_MOUNT_BIND:
        if (m->is_dir) {
            if (make_dirs(target, 1, 0755) < 0) die(err_fd, "mkdir", m->target);
        } else {
            if (make_parent_dirs(target) < 0) die(err_fd, "mkdir for", m->target);
            int fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
            if (fd < 0) die(err_fd, "create mount point", m->target);
            close(fd);
        }
        fd_path(src, source_fd);
        if (mount(src, target, NULL, MS_BIND, NULL) < 0) die(err_fd, "bind", m->target);
        if (m->flags && mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | m->flags, NULL) < 0)
            die(err_fd, "remount", m->target);
        break;
    case WD_MOUNT_TMPFS:
        if (make_dirs(target, 1, 0755) < 0) die(err_fd, "mkdir", m->target);
        if (mount("tmpfs", target, "tmpfs", m->flags, m->data) < 0) die(err_fd, "mount tmpfs", m->target);
        break;
    case WD_MOUNT_PROC:
        if (make_dirs(target, 1, 0555) < 0) die(err_fd, "mkdir", m->target);
        if (mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
            die(err_fd, "mount proc", m->target);
        break;
    case WD_MOUNT_DEVPTS: {
        if (make_dirs(target, 1, 0755) < 0) die(err_fd, "mkdir", m->target);
        if (mount("devpts", target, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620") < 0)
            die(err_fd, "mount devpts", m->target);
        break;
    }
    case WD_MOUNT_FILE: {
        if (make_parent_dirs(target) < 0) die(err_fd, "mkdir for", m->target);
        int fd = open(target, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, m->mode);
        if (fd < 0) die(err_fd, "create", m->target);
        if (write_all(fd, m->data, m->data_len) < 0) die(err_fd, "write", m->target);
        close(fd);
        break;
    }
    case WD_MOUNT_DIR:
        if (make_dirs(target, 1, m->mode) < 0) die(err_fd, "mkdir", m->target);
        break;
    case WD_MOUNT_SYMLINK:
        if (make_parent_dirs(target) < 0) die(err_fd, "mkdir for", m->target);
        if (symlink(m->data, target) < 0 && errno != EEXIST) die(err_fd, "symlink", m->target);
        break;
    case WD_MOUNT_REMOUNT:
        if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | m->flags, NULL) < 0)
            die(err_fd, "remount", m->target);
        break;
    case WD_MOUNT_ATTACH:
        if (make_dirs(target, 1, 0755) < 0) die(err_fd, "mkdir", m->target);
        if (syscall(SYS_move_mount, source_fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
            die(err_fd, "attach mount at", m->target);
        break;
    default:
        errno = EINVAL;
        die(err_fd, "unknown mount kind for", m->target);
    }
}

static void seal_root(const struct wd_config *cfg, int err_fd) {
    if (cfg->root_readonly &&
        mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        die(err_fd, "remount / read-only", NULL);
}

static void build_root(const struct wd_config *cfg, int err_fd) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die(err_fd, "make / private", NULL);
    if (cfg->n_mounts > WD_MAX_MOUNTS) { errno = E2BIG; die(err_fd, "too many mounts", NULL); }
    // Bind sources are opened here, in this mount namespace (the kernel binds
    // only mounts of the caller's namespace) and before the staging tmpfs can
    // hide any of them.
    int source_fds[WD_MAX_MOUNTS];
    for (size_t i = 0; i < cfg->n_mounts; i++) {
        source_fds[i] = -1;
        if (cfg->mounts[i].kind == WD_MOUNT_ATTACH) {
            // This copy of the caller's descriptor is the jail's to close.
            source_fds[i] = cfg->mounts[i].fd;
            continue;
        }
        if (cfg->mounts[i].kind != WD_MOUNT_BIND) continue;
        source_fds[i] = open(cfg->mounts[i].source, O_PATH | O_CLOEXEC);
        if (source_fds[i] < 0) die(err_fd, "open bind source", cfg->mounts[i].source);
    }
    if (mount("tmpfs", cfg->staging_dir, "tmpfs", MS_NOSUID | MS_NODEV, cfg->root_options) < 0)
        die(err_fd, "mount root tmpfs on", cfg->staging_dir);
    if (chdir(cfg->staging_dir) < 0) die(err_fd, "chdir", cfg->staging_dir);
    for (size_t i = 0; i < cfg->n_mounts; i++) {
        apply_mount(&cfg->mounts[i], source_fds[i], err_fd);
        if (source_fds[i] >= 0) close(source_fds[i]);
    }

    // Stack the new root on the old one and detach the old: no put_old directory needed.
    if (syscall(SYS_pivot_root, ".", ".") < 0) die(err_fd, "pivot_root", NULL);
    if (umount2(".", MNT_DETACH) < 0) die(err_fd, "detach old root", NULL);
    if (chdir("/") < 0) die(err_fd, "chdir /", NULL);
    // An armed root stays writable until the call's files are in.
    if (!cfg->armed) seal_root(cfg, err_fd);
}

// ---------------------------------------------------------------- an armed jail's call

// A NUL-terminated string at `offset` of the call, or NULL when it does not lie within.
static const char *call_string(const char *base, uint64_t size, uint64_t offset) {
    if (offset == 0 || offset >= size) return NULL;
    for (uint64_t i = offset; i < size; i++) if (base[i] == 0) return base + offset;
    return NULL;
}

// Turns an array of string offsets (ending with 0) into a char *[] in place.
static char *const *call_strings(char *base, uint64_t size, uint64_t offset, int err_fd) {
    if (offset == 0 || offset % sizeof(uint64_t) || offset >= size) { errno = EINVAL; die(err_fd, "the call's string list", NULL); }
    uint64_t *items = (uint64_t *)(base + offset);
    for (uint64_t i = 0;; i++) {
        if (offset + (i + 1) * sizeof(uint64_t) > size) { errno = EINVAL; die(err_fd, "the call's string list", NULL); }
        if (items[i] == 0) break;
        const char *s = call_string(base, size, items[i]);
        if (!s) { errno = EINVAL; die(err_fd, "a string of the call", NULL); }
        items[i] = (uint64_t)(uintptr_t)s;
    }
    return (char *const *)items;
}

// Waits until the jail is fired (EOF: disarmed, init leaves), then reads the
// call: `run` becomes `cfg` with the call's program, arguments, environment,
// directory and rlimits, and the call's files are written into the root.
static void take_call(const struct wd_config *cfg, struct wd_config *run, int err_fd) {
    // Tells the caller the root is built (it need not read this).
    char go = 'a';
    ssize_t n;
    do { n = send(cfg->arm_fd, &go, 1, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    do { n = read(cfg->arm_fd, &go, 1); } while (n < 0 && errno == EINTR);
    if (n != 1) _exit(0);
    close(cfg->arm_fd);
    struct stat st;
    if (fstat(cfg->call_fd, &st) < 0) die(err_fd, "read the call", NULL);
    uint64_t size = (uint64_t)st.st_size;
    if (size < sizeof(struct wd_call)) { errno = EINVAL; die(err_fd, "the call is too short", NULL); }
    // Private and writable: the offset lists become pointers in place.
    char *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, cfg->call_fd, 0);
    if (base == MAP_FAILED) die(err_fd, "map the call", NULL);
    close(cfg->call_fd);
    const struct wd_call *call = (const struct wd_call *)base;
    if (call->size != size) { errno = EINVAL; die(err_fd, "the call's size", NULL); }

    *run = *cfg;
    run->path = call_string(base, size, call->path);
    run->cwd = call_string(base, size, call->cwd);
    if (!run->path || !run->cwd) { errno = EINVAL; die(err_fd, "the call's program or directory", NULL); }
    run->argv = call_strings(base, size, call->argv, err_fd);
    run->envp = call_strings(base, size, call->envp, err_fd);
    if (call->n_rlimits > 64 || call->rlimits > size || call->rlimits % 8 ||
        call->rlimits + call->n_rlimits * sizeof(struct wd_rlimit) > size) {
        errno = EINVAL;
        die(err_fd, "the call's rlimits", NULL);
    }
    run->rlimits = (const struct wd_rlimit *)(base + call->rlimits);
    run->n_rlimits = call->n_rlimits;

    if (call->n_files > WD_MAX_MOUNTS || call->files > size || call->files % 8 ||
        call->files + call->n_files * sizeof(struct wd_call_file) > size) {
        errno = EINVAL;
        die(err_fd, "the call's files", NULL);
    }
    const struct wd_call_file *files = (const struct wd_call_file *)(base + call->files);
    for (uint64_t i = 0; i < call->n_files; i++) {
        const struct wd_call_file *f = &files[i];
        struct wd_mount m;
        memset(&m, 0, sizeof m);
        m.kind = WD_MOUNT_FILE;
        m.target = call_string(base, size, f->target);
        if (!m.target || m.target[0] != '/' || f->data > size || f->len > size - f->data) {
            errno = EINVAL;
            die(err_fd, "a file of the call", NULL);
        }
        m.data = base + f->data;
        m.data_len = f->len;
        m.mode = f->mode;
        apply_mount(&m, -1, err_fd);
    }
    seal_root(cfg, err_fd);
}

int wd_loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    struct ifreq req;
    memset(&req, 0, sizeof req);
    memcpy(req.ifr_name, "lo", 3);
    int rc = 0;
    if (ioctl(s, SIOCGIFFLAGS, &req) < 0) rc = -errno;
    if (rc == 0) {
        req.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(s, SIOCSIFFLAGS, &req) < 0) rc = -errno;
    }
    close(s);
    return rc;
}

// ---------------------------------------------------------------- the payload

static int move_above(int fd, int floor) {
    return fcntl(fd, F_DUPFD_CLOEXEC, floor);
}

static void drop_privileges(const struct wd_config *cfg, int err_fd) {
    if (cfg->keep_caps) {
        // Warden's own worker: it stays the jail's root to build nested jails.
        if (syscall(SYS_setresgid, cfg->gid, cfg->gid, cfg->gid) < 0) die(err_fd, "setresgid", NULL);
        if (syscall(SYS_setresuid, cfg->uid, cfg->uid, cfg->uid) < 0) die(err_fd, "setresuid", NULL);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die(err_fd, "no_new_privs", NULL);
        return;
    }
    for (int cap = 0; cap <= cfg->cap_last; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) die(err_fd, "drop bounding capability", NULL);
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) die(err_fd, "clear ambient capabilities", NULL);
    // Raw syscalls: glibc's set*id wrappers broadcast to threads that this
    // copy of the process does not have.
    if (syscall(SYS_setresgid, cfg->gid, cfg->gid, cfg->gid) < 0) die(err_fd, "setresgid", NULL);
    if (syscall(SYS_setresuid, cfg->uid, cfg->uid, cfg->uid) < 0) die(err_fd, "setresuid", NULL);
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &header, data) < 0) die(err_fd, "clear capabilities", NULL);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die(err_fd, "no_new_privs", NULL);
}

// Sends a descriptor over a Unix socket, as SCM_RIGHTS (the seccomp listener to
// init, the loopback listener to the caller).
static int send_fd(int sock, int fd) {
    char byte = 'l';
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int receive_fd(int sock) {
    char byte;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union { struct cmsghdr align; char buf[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
    ssize_t n;
    do { n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n != 1) return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

// A TCP socket listening on the jail's own loopback, made before the payload
// starts (so its first connect finds it) and handed to the caller, who serves
// it from outside; the jail keeps no copy.
static void send_loopback_listener(const struct wd_config *cfg, int err_fd) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) die(err_fd, "loopback listener socket", NULL);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cfg->listener_port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0) die(err_fd, "bind the loopback listener", NULL);
    if (listen(s, 128) < 0) die(err_fd, "listen on the loopback listener", NULL);
    if (send_fd(cfg->listener_sock, s) < 0) die(err_fd, "pass the loopback listener", NULL);
    close(s);
}

// Closes every descriptor from `floor` up except `a` and `b` (either may be -1).
static void close_from_except(int floor, int a, int b) {
    int keep[2] = { a < b ? a : b, a < b ? b : a };
    unsigned int from = (unsigned int)floor;
    for (int i = 0; i < 2; i++) {
        if (keep[i] < floor) continue;
        if ((unsigned int)keep[i] > from) syscall(SYS_close_range, from, (unsigned int)keep[i] - 1, 0);
        from = (unsigned int)keep[i] + 1;
    }
    syscall(SYS_close_range, from, ~0U, 0);
}

__attribute__((noreturn))
static void exec_payload(const struct wd_config *cfg, int err_fd, int notify_sock) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (cfg->new_session && setsid() < 0) die(err_fd, "setsid", NULL);

    // Place stdio and the extra descriptors at 0, 1, 2, 3…: first move every
    // source above the target range so that none is overwritten early.
    int top = 3 + (int)cfg->n_extra_fds;
    int sources[3 + 64];
    if (cfg->n_extra_fds > 64) { errno = EINVAL; die(err_fd, "too many extra descriptors", NULL); }
    sources[0] = cfg->stdin_fd;
    sources[1] = cfg->stdout_fd;
    sources[2] = cfg->stderr_fd;
    for (size_t i = 0; i < cfg->n_extra_fds; i++) sources[3 + i] = cfg->extra_fds[i];
    if ((err_fd = move_above(err_fd, top)) < 0) die(2, "dup", NULL);
    if (notify_sock >= 0 && (notify_sock = move_above(notify_sock, top)) < 0) die(err_fd, "dup", NULL);
    for (int i = 0; i < top; i++) {
        if ((sources[i] = move_above(sources[i], top)) < 0) die(err_fd, "dup descriptor", NULL);
    }
    for (int i = 0; i < top; i++) {
        if (dup2(sources[i], i) < 0) die(err_fd, "dup2", NULL);
    }
    // Everything else closes now, not at exec: the descriptors a busy parent
    // holds would otherwise count against the payload's RLIMIT_NOFILE while
    // seccomp makes its listener. err_fd (close-on-exec) stays until exec.
    close_from_except(top, err_fd, notify_sock);

    for (size_t i = 0; i < cfg->n_rlimits; i++) {
        struct { uint64_t cur, max; } lim = { cfg->rlimits[i].soft, cfg->rlimits[i].hard };
        if (syscall(SYS_prlimit64, 0, cfg->rlimits[i].resource, &lim, NULL) < 0) die(err_fd, "setrlimit", NULL);
    }
    drop_privileges(cfg, err_fd);
    if (chdir(cfg->cwd) < 0) die(err_fd, "chdir", cfg->cwd);

    if (cfg->bpf_len) {
        struct sock_fprog prog = { .len = (unsigned short)cfg->bpf_len, .filter = (struct sock_filter *)cfg->bpf };
        if (cfg->seccomp_notify) {
            long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
            if (listener < 0) die(err_fd, "load seccomp filter", NULL);
            if (send_fd(notify_sock, (int)listener) < 0) die(err_fd, "pass seccomp listener", NULL);
            close((int)listener);
            close(notify_sock);
        } else if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
            die(err_fd, "load seccomp filter", NULL);
        }
    }
    execve(cfg->path, cfg->argv, cfg->envp);
    die(err_fd, "execve", cfg->path);
}

// ---------------------------------------------------------------- pid 1

static void close_all_except(int a, int b) { close_from_except(0, a, b); }

// Closes every descriptor but the `n` in `keep` (-1 entries are ignored).
static void close_all_but(int *keep, size_t n) {
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
            int t = keep[j]; keep[j] = keep[j - 1]; keep[j - 1] = t;
        }
    }
    unsigned int from = 0;
    for (size_t i = 0; i < n; i++) {
        if (keep[i] < 0 || (unsigned int)keep[i] < from) continue;
        if ((unsigned int)keep[i] > from) syscall(SYS_close_range, from, (unsigned int)keep[i] - 1, 0);
        from = (unsigned int)keep[i] + 1;
    }
    syscall(SYS_close_range, from, ~0U, 0);
}

static void reap_everything(void) {
    kill(-1, SIGKILL);
    for (;;) {
        pid_t p = waitpid(-1, NULL, __WALL);
        if (p < 0 && errno == EINTR) continue;
        if (p < 0) break;
    }
}

// Waits for the payload while reaping orphans and forwarding signals; when
// the payload ends (or a seccomp kill rule fires) everything else is killed.
__attribute__((noreturn))
static void serve_as_init(pid_t payload, int report_fd, int sig_fd, int listener) {
    struct wd_report report;
    memset(&report, 0, sizeof report);
    report.seccomp_syscall = -1;
    int done = 0;
    while (!done) {
        struct pollfd fds[2] = { { .fd = sig_fd, .events = POLLIN }, { .fd = listener, .events = POLLIN } };
        int n = poll(fds, listener >= 0 ? 2 : 1, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (listener >= 0 && (fds[1].revents & POLLIN)) {
            struct seccomp_notif req;
            memset(&req, 0, sizeof req);
            if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
                report.seccomp_syscall = req.data.nr;
                report.wait_status = SIGSYS; // as if killed by the filter
                done = 1;
                break;
            }
        }
        if (listener >= 0 && (fds[1].revents & (POLLHUP | POLLERR)) && !(fds[1].revents & POLLIN)) {
            close(listener); // no process uses the filter any more
            listener = -1;
        }
        if (!(fds[0].revents & POLLIN)) continue;
        struct signalfd_siginfo info;
        if (read(sig_fd, &info, sizeof info) != sizeof info) continue;
        if (info.ssi_signo != SIGCHLD) {
            kill(payload, (int)info.ssi_signo);
            continue;
        }
        for (;;) {
            int status;
            pid_t p = waitpid(-1, &status, WNOHANG | __WALL);
            if (p <= 0) break;
            if (p == payload) {
                report.wait_status = status;
                done = 1;
            }
        }
    }
    reap_everything();
    struct rusage usage;
    if (getrusage(RUSAGE_CHILDREN, &usage) == 0) {
        report.user_us = (int64_t)usage.ru_utime.tv_sec * 1000000 + usage.ru_utime.tv_usec;
        report.system_us = (int64_t)usage.ru_stime.tv_sec * 1000000 + usage.ru_stime.tv_usec;
        report.max_rss_kb = usage.ru_maxrss;
    }
    ssize_t ignored = write(report_fd, &report, sizeof report);
    (void)ignored;
    _exit(0);
}

struct payload_args {
    const struct wd_config *cfg;
    int err_fd;
    int notify_sock;
    int init_sock;
};

// The payload's stack while it shares init's memory; init is suspended until
// the payload execs or exits, so one static stack per jail is enough.
static char payload_stack[64 * 1024] __attribute__((aligned(16)));

static int payload_main(void *arg) {
    struct payload_args *a = arg;
    if (a->init_sock >= 0) close(a->init_sock);
    exec_payload(a->cfg, a->err_fd, a->notify_sock);
}

void wd_child_main(const struct wd_config *cfg, int sync_fd, int err_fd, int report_fd) {
    // Signal handlers and the mask come from the caller's process; ignored
    // signals would survive exec. Start clean, with everything blocked for init.
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL);
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    if (cfg->armed) {
        // An armed init waits long: the caller's descriptors it was cloned with
        // (other runs' pipes among them) must not stay open that long.
        int keep[] = { sync_fd, err_fd, report_fd, cfg->arm_fd, cfg->call_fd,
                       cfg->stdin_fd, cfg->stdout_fd, cfg->stderr_fd };
        close_all_but(keep, sizeof keep / sizeof keep[0]);
    }

    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die(err_fd, "set parent-death signal", NULL);
    char go;
    ssize_t n;
    do { n = read(sync_fd, &go, 1); } while (n < 0 && errno == EINTR);
    if (n != 1) _exit(1); // the caller is gone or gave up
    close(sync_fd);

    // Host supplementary groups (root's gid 0 among them) must not follow
    // into the jail; rootless, setgroups is denied and this fails harmlessly.
    syscall(SYS_setgroups, 0, NULL);
    // The caller's host uid is not mapped in a root-mode jail: take the
    // jail's own root (or, rootless, the one mapped id) so files can be made.
    if (syscall(SYS_setresgid, cfg->init_gid, cfg->init_gid, cfg->init_gid) < 0) die(err_fd, "setresgid for init", NULL);
    if (syscall(SYS_setresuid, cfg->init_uid, cfg->init_uid, cfg->init_uid) < 0) die(err_fd, "setresuid for init", NULL);
    // A change of ids clears the parent-death signal: set it again, then make
    // sure the caller did not die in between (its end of the report pipe would be closed).
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die(err_fd, "set parent-death signal", NULL);
    struct pollfd caller = { .fd = report_fd, .events = POLLOUT };
    if (poll(&caller, 1, 0) == 1 && (caller.revents & (POLLERR | POLLHUP))) _exit(1);
    if (unshare(CLONE_NEWCGROUP) < 0) die(err_fd, "unshare cgroup namespace", NULL);
    if (cfg->hostname && sethostname(cfg->hostname, str_len(cfg->hostname)) < 0) die(err_fd, "sethostname", NULL);
    build_root(cfg, err_fd);
    if (cfg->new_net) {
        int rc = wd_loopback_up();
        if (rc < 0) { errno = -rc; die(err_fd, "bring loopback up", NULL); }
        if (cfg->listener_sock >= 0) send_loopback_listener(cfg, err_fd);
    }
    struct wd_config fired;
    if (cfg->armed) {
        take_call(cfg, &fired, err_fd);
        cfg = &fired;
    }

    int socks[2] = { -1, -1 };
    if (cfg->seccomp_notify && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) < 0)
        die(err_fd, "socketpair", NULL);

    // The payload shares init's memory until it execs (vfork semantics), so
    // init's copy of the caller's address space is not copied a second time.
    struct payload_args args = { cfg, err_fd, socks[1], socks[0] };
    pid_t payload = clone(payload_main, payload_stack + sizeof payload_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
    if (payload < 0) die(err_fd, "fork payload", NULL);
    close(err_fd);
    int listener = -1;
    if (socks[0] >= 0) {
        close(socks[1]);
        listener = receive_fd(socks[0]); // -1 when the payload failed before its filter
        close(socks[0]);
    }
    // Keep only what init needs: nothing of the caller's stays open in the jail.
    // Signals stay blocked and pending, so a signalfd made now still sees them.
    close_all_except(report_fd, listener);
    int sig_fd = signalfd(-1, &all, SFD_CLOEXEC);
    if (sig_fd < 0) {
        kill(payload, SIGKILL);
        _exit(1);
    }
    serve_as_init(payload, report_fd, sig_fd, listener);
}
