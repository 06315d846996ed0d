// A filesystem image mounted nowhere: the image goes on a loop device that
// detaches itself once nothing holds it (autoclear), and the filesystem is
// made with the mount API into a mount that is attached to no namespace.
// The jail attaches it inside its own mount namespace (WD_MOUNT_ATTACH), so
// when the jail ends, however it ends, the mount and the loop device go too.
#define _GNU_SOURCE
#include "csandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int wd_loop_attach(const char *image, char *device, size_t device_len) {
    int image_fd = open(image, O_RDWR | O_CLOEXEC);
    if (image_fd < 0) return -errno;
    int control = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (control < 0) { int err = errno; close(image_fd); return -err; }
    int rc = -EBUSY;
    // Every caller is given the same free device until one configures it;
    // the others get EBUSY and ask again (many jails may start at once).
    for (int attempt = 0; attempt < 1000; attempt++) {
        int number = ioctl(control, LOOP_CTL_GET_FREE);
        if (number < 0) { rc = -errno; break; }
        snprintf(device, device_len, "/dev/loop%d", number);
        int loop_fd = open(device, O_RDWR | O_CLOEXEC);
        if (loop_fd < 0) {
            rc = -errno;
            if (rc == -EBUSY || rc == -ENXIO || rc == -ENOENT) continue; // taken or being removed meanwhile
            break;
        }
        struct loop_config config;
        memset(&config, 0, sizeof config);
        config.fd = (unsigned int)image_fd;
        config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
        if (ioctl(loop_fd, LOOP_CONFIGURE, &config) == 0) { rc = loop_fd; break; }
        rc = -errno;
        close(loop_fd);
        if (rc != -EBUSY) break;
    }
    close(control);
    close(image_fd);
    return rc;
}

int wd_fsmount(const char *fstype, const char *source, char *const *flags, size_t n_flags,
               unsigned int attributes, char *error, size_t error_len) {
    error[0] = 0;
    int fs = (int)syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC);
    if (fs < 0) { snprintf(error, error_len, "fsopen %s", fstype); return -errno; }
    const char *step = "fsconfig source";
    int rc = 0;
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", source, 0) < 0) rc = -errno;
    for (size_t i = 0; rc == 0 && i < n_flags; i++) {
        step = flags[i];
        if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, flags[i], NULL, 0) < 0) rc = -errno;
    }
    if (rc == 0) {
        step = "create the filesystem";
        if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) rc = -errno;
    }
    if (rc == 0) {
        step = "fsmount";
        rc = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attributes);
        if (rc < 0) rc = -errno;
    }
    if (rc < 0) {
        // The kernel's own words on why (the fs context's log), when it has some.
        char log[256];
        ssize_t n = read(fs, log, sizeof log - 1);
        if (n > 0) {
            log[n] = 0;
            snprintf(error, error_len, "%s (%s)", step, log);
        } else {
            snprintf(error, error_len, "%s", step);
        }
    }
    close(fs);
    return rc;
}
