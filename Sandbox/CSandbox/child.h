// Internal to CSandbox: the child's entry point and helpers shared with spawn.c.
#ifndef CSANDBOX_CHILD_H
#define CSANDBOX_CHILD_H

#include "csandbox.h"

// Runs in the cloned child: sets up the jail, starts the payload, and stays
// as the jail's pid 1 until the payload ends. Never returns.
__attribute__((noreturn))
void wd_child_main(const struct wd_config *cfg, int sync_fd, int err_fd, int report_fd);

// Brings the loopback interface of the current network namespace up.
// Returns 0 or -errno.
int wd_loopback_up(void);

#endif
