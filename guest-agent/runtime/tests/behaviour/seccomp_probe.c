/* Calls the syscalls Berth's seccomp profile must refuse, and one it must allow,
 * printing "<name> ok" or "<name> <ERRNO>" for each. Built statically by the
 * seccomp tests and copied into the container's rootfs. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define KEYCTL_GET_KEYRING_ID 0
#define KEY_SPEC_SESSION_KEYRING -3

static const char *errno_name(int err) {
    switch (err) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case ENOKEY: return "ENOKEY";
    default: return "EOTHER";
    }
}

static void report(const char *name, long rc) {
    if (rc >= 0)
        printf("%s ok\n", name);
    else
        printf("%s %s\n", name, errno_name(errno));
}

int main(void) {
    /* create=1: a session keyring is made if the runtime did not set one. */
    report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1));
    /* unshare with no flags needs no privilege: only a filter can refuse it. */
    report("unshare", unshare(0));
    report("vsock", socket(AF_VSOCK, SOCK_STREAM, 0));
    report("unix", socket(AF_UNIX, SOCK_STREAM, 0));
    return 0;
}
