// The jail's spawn path: everything between clone and exec.
//
// The Swift side prepares every byte the child needs (paths, map contents,
// the seccomp BPF, open file descriptors); the child only makes syscalls with
// that data, because the parent is multi-threaded and nothing but
// async-signal-safe calls may run between clone and exec.
#ifndef CSANDBOX_H
#define CSANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

enum wd_mount_kind {
    WD_MOUNT_BIND = 1,    // bind source at target
    WD_MOUNT_TMPFS = 2,   // a tmpfs at target, data = mount options
    WD_MOUNT_PROC = 3,    // procfs of the jail's pid namespace
    WD_MOUNT_DEVPTS = 4,  // a private devpts instance, plus the ptmx symlink
    WD_MOUNT_FILE = 5,    // a regular file at target holding data
    WD_MOUNT_DIR = 6,     // an empty directory at target
    WD_MOUNT_SYMLINK = 7, // a symlink at target pointing to data
    WD_MOUNT_REMOUNT = 8, // change the flags of the mount at target
    WD_MOUNT_ATTACH = 9,  // attach the detached mount `fd` (from fsmount) at target
};

struct wd_mount {
    int kind;
    const char *source;         // WD_MOUNT_BIND: host path, opened inside the jail's mount namespace
    int is_dir;                 // WD_MOUNT_BIND: create a directory (else a file) as mount point
    unsigned long flags;        // mount flags (WD_MOUNT_TMPFS/REMOUNT) or flags of the bind's remount
    unsigned int mode;          // permissions of a created file or directory
    const char *target;         // absolute path inside the jail
    const char *data;           // options, file contents or symlink target
    size_t data_len;
    int fd;                     // WD_MOUNT_ATTACH: the caller's mount descriptor
};

#define WD_MAX_MOUNTS 512

struct wd_rlimit {
    int resource;
    uint64_t soft;
    uint64_t hard;
};

struct wd_config {
    const char *path;           // absolute path of the program to exec
    char *const *argv;
    char *const *envp;
    const char *cwd;            // working directory inside the jail
    const char *hostname;
    const char *staging_dir;    // where the new root is assembled before pivot_root
    const char *root_options;   // tmpfs options of the new root
    int root_readonly;          // remount / read-only once assembled

    const struct wd_mount *mounts;
    size_t n_mounts;
    const struct wd_rlimit *rlimits;
    size_t n_rlimits;

    const void *bpf;            // struct sock_filter[bpf_len], loaded last
    size_t bpf_len;
    int seccomp_notify;         // the filter returns USER_NOTIF for kills: report the syscall

    int new_net;                // a new network namespace with loopback up
    int listener_sock;          // >= 0 (with new_net): init makes a TCP socket listening on
                                // 127.0.0.1:listener_port and sends it over this socket (SCM_RIGHTS)
    uint16_t listener_port;
    int join_netns_fd;          // >= 0: join this network namespace (requires privilege)
    int cgroup_v2_fd;           // >= 0: start the child in this cgroup (CLONE_INTO_CGROUP)
    const int *cgroup_procs_fds; // cgroup v1: write the child's pid into each
    size_t n_cgroup_procs;

    const char *uid_map;        // contents of /proc/PID/uid_map
    const char *gid_map;
    int deny_setgroups;         // rootless: setgroups must be denied before gid_map

    uint32_t init_uid;          // the ids init takes inside the jail (its root when mapped)
    uint32_t init_gid;
    uint32_t uid;               // the payload's ids inside the jail
    uint32_t gid;
    int cap_last;               // highest capability number of this kernel
    int keep_caps;              // keep capabilities (inside the jail's own user namespace)

    int stdin_fd;
    int stdout_fd;
    int stderr_fd;
    const int *extra_fds;       // become fds 3, 4, ... of the payload
    size_t n_extra_fds;
    int new_session;            // setsid() so the payload cannot reach the caller's terminal

    // An armed jail: init builds the root, then waits on arm_fd until wd_fire
    // sends the call (a struct wd_call written into call_fd): its program,
    // arguments, environment, working directory, files and rlimits replace
    // those above. wd_spawn returns once init is released, not once it runs.
    int armed;
    int arm_fd;                 // init's end of a socket pair: one byte fires, EOF disarms
    int call_fd;                // a memfd holding the call once fired
};

// The call of an armed jail, as the caller writes it into the memfd: offsets
// from the message's start. Strings end with NUL; argv and envp are arrays of
// string offsets ending with 0.
struct wd_call {
    uint64_t size;              // bytes of the whole message
    uint64_t path;
    uint64_t cwd;
    uint64_t argv;
    uint64_t envp;
    uint64_t files;             // struct wd_call_file[n_files]
    uint64_t n_files;
    uint64_t rlimits;           // struct wd_rlimit[n_rlimits]
    uint64_t n_rlimits;
};

struct wd_call_file {
    uint64_t target;            // absolute path inside the jail's root
    uint64_t data;
    uint64_t len;
    uint32_t mode;
    uint32_t reserved;
};

struct wd_spawned {
    pid_t pid;                  // the jail's init, as seen from the caller
    int pidfd;
    int report_fd;              // init writes one struct wd_report when the payload ends
    int error_fd;               // an armed jail's setup errors (see wd_fire), else -1
    int error_errno;
    char error[512];            // a setup error, empty on success
};

// What the jail's init reports when the payload ends.
struct wd_report {
    int32_t wait_status;        // of the payload, as waitpid gives it
    int32_t seccomp_syscall;    // -1, or the syscall that a kill rule caught
    int64_t user_us;            // CPU of every process of the jail
    int64_t system_us;
    int64_t max_rss_kb;         // largest resident set of any one process
};

// Starts a jail. Returns 0 and fills `out`, or -1 with out->error set.
// An armed jail (config->armed) is released and left to build its root:
// out->error_fd then holds the read end of its setup errors, for wd_fire.
int wd_spawn(const struct wd_config *config, struct wd_spawned *out);

// Fires an armed jail whose call is already in its memfd: one byte on
// `arm_fd`, then its setup errors are read from `error_fd` until the payload
// has started. Returns 0, or -1 with out->error set.
int wd_fire(int arm_fd, int error_fd, struct wd_spawned *out);

// Creates a network namespace with only loopback up, returns an fd to it or
// -errno. Needs CAP_SYS_ADMIN in the caller's user namespace.
int wd_netns_create(void);

// A TCP socket listening on 127.0.0.1:port (0: the kernel picks) inside the
// network namespace `netns_fd`; this thread switches there and back. Returns
// the socket (close-on-exec) and stores the bound port, or returns -errno.
int wd_netns_listen(int netns_fd, uint16_t port, uint16_t *bound);

// Sends a signal through a pidfd. Returns 0 or -errno.
int wd_pidfd_signal(int pidfd, int sig);

// Waits until the process behind pidfd ends (or timeout_ms passes; -1 = forever).
// Returns 1 when it ended, 0 on timeout, -errno on failure.
int wd_pidfd_wait(int pidfd, int timeout_ms);

// Reaps the process (it must have ended). Returns 0 or -errno.
int wd_reap(pid_t pid);

// The cgroup janitor: a process of its own that outlives the caller and, once
// the caller has died (even by SIGKILL) or writes to `wake_fd`, removes the
// cgroup directories below `parents` whose names start with `prefix`. Woken
// while the caller lives, it ends once they are gone; if some are still busy
// after `timeout_ms`, it waits for the caller's end and tries once more.
#define WD_JANITOR_MAX_KEEP 8

struct wd_janitor_config {
    const char *const *parents; // directories whose matching children are removed
    size_t n_parents;
    const char *prefix;         // only children whose name starts with this
    const int *keep_fds;        // held open until the janitor ends (a lock, say)
    size_t n_keep_fds;
    int wake_fd;                // read end of a pipe: readable or closed = clean up now
    int timeout_ms;             // how long to retry directories still in use
    const char *title;          // shown as the process's command line
};

// Starts the janitor. Returns its pid and sets *pidfd, or returns -errno.
pid_t wd_janitor_spawn(const struct wd_janitor_config *config, int *pidfd);

// Puts a filesystem image on a free loop device that detaches itself when its
// last user closes it. Returns the loop device's fd (and its path in
// `device`), or -errno.
int wd_loop_attach(const char *image, char *device, size_t device_len);

// Makes a filesystem of `fstype` on `source`, with the options `flags` (such
// as "noinit_itable"), into a detached mount (attached to no mount namespace)
// with MOUNT_ATTR_* `attributes`. Returns its fd, or -errno with the failed
// step (and the kernel's message) in `error`.
int wd_fsmount(const char *fstype, const char *source, char *const *flags, size_t n_flags,
               unsigned int attributes, char *error, size_t error_len);

// pipe2(O_CLOEXEC) and memfd_create, which Swift does not see without _GNU_SOURCE.
int wd_pipe_cloexec(int fds[2]);
int wd_memfd(const char *name);

/* Starts `path` with stdin on /dev/null and stdout/stderr on new pipes whose read
   ends come back; no other descriptor reaches it. 0, or -errno. */
int wd_spawn_tool(const char *path, char *const argv[], char *const envp[], int *pid_out, int *stdout_fd,
                  int *stderr_fd);


#ifdef __cplusplus
}
#endif

#endif
