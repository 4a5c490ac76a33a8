//! The syscall names of Berth's default profile, grouped by what they are for.
//!
//! The effect matches moby's default profile: everything a normal program needs is
//! allowed, while syscalls that reach kernel-global state (keyrings, mounts, namespaces,
//! modules, clocks, BPF, io_uring, ...) stay at the default EPERM unless the container
//! holds the capability that guards them. Names that the installed libseccomp or the
//! running kernel do not know are skipped when compiling, so 32-bit variants and
//! syscalls newer than this machine can be listed safely.

use oci_spec::runtime::Capability;

/// Allowed for every container, on every architecture.
#[rustfmt::skip]
pub(super) const ALWAYS_ALLOWED: &[&[&str]] = &[
    FILES, XATTRS, EVENTS, ASYNC_IO, MEMORY, PROCESSES, FUTEXES, IDENTITY, SIGNALS, TIME,
    SCHEDULING, IPC, NETWORK, SYSTEM,
];

/// Paths, file descriptors and their data.
#[rustfmt::skip]
const FILES: &[&str] = &[
    "access", "faccessat", "faccessat2", "chdir", "fchdir", "getcwd", "chmod", "fchmod",
    "fchmodat", "fchmodat2", "chown", "chown32", "fchown", "fchown32", "fchownat", "lchown",
    "lchown32", "umask", "open", "openat", "openat2", "creat", "name_to_handle_at", "close",
    "close_range", "dup", "dup2", "dup3", "fcntl", "fcntl64", "flock", "ioctl", "pipe",
    "pipe2", "read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64",
    "pwritev", "pwritev2", "lseek", "_llseek", "sendfile", "sendfile64", "copy_file_range",
    "splice", "tee", "vmsplice", "fallocate", "fadvise64", "fadvise64_64", "readahead",
    "cachestat", "truncate", "truncate64", "ftruncate", "ftruncate64", "fsync", "fdatasync",
    "sync", "syncfs", "sync_file_range", "link", "linkat", "unlink", "unlinkat", "symlink",
    "symlinkat", "readlink", "readlinkat", "rename", "renameat", "renameat2", "mkdir",
    "mkdirat", "rmdir", "mknod", "mknodat", "getdents", "getdents64", "stat", "stat64",
    "lstat", "lstat64", "fstat", "fstat64", "fstatat64", "newfstatat", "statx", "statfs",
    "statfs64", "fstatfs", "fstatfs64", "utime", "utimes", "utimensat", "utimensat_time64",
    "futimesat",
    // Read-only views of the container's own mount table.
    "statmount", "listmount",
];

/// Extended attributes.
#[rustfmt::skip]
const XATTRS: &[&str] = &[
    "getxattr", "lgetxattr", "fgetxattr", "getxattrat", "setxattr", "lsetxattr", "fsetxattr",
    "setxattrat", "listxattr", "llistxattr", "flistxattr", "listxattrat", "removexattr",
    "lremovexattr", "fremovexattr", "removexattrat",
];

/// Waiting for and being told about events.
#[rustfmt::skip]
const EVENTS: &[&str] = &[
    "poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64",
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait",
    "epoll_wait_old", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "signalfd",
    "signalfd4", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
    "timerfd_settime64", "inotify_init", "inotify_init1", "inotify_add_watch",
    "inotify_rm_watch",
    // Marks only: creating a fanotify group needs CAP_SYS_ADMIN.
    "fanotify_mark",
];

/// Linux AIO. io_uring is deliberately absent: its rings run operations (socket
/// creation included) that seccomp never sees.
#[rustfmt::skip]
const ASYNC_IO: &[&str] = &[
    "io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents",
    "io_pgetevents_time64",
];

/// The process's own address space.
#[rustfmt::skip]
const MEMORY: &[&str] = &[
    "brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync",
    "mlock", "mlock2", "mlockall", "munlock", "munlockall", "remap_file_pages", "membarrier",
    "memfd_create", "memfd_secret", "pkey_alloc", "pkey_free", "pkey_mprotect",
    "map_shadow_stack", "mseal",
];

/// Creating, running, waiting for and limiting processes. `clone` and `clone3` are
/// handled separately because their namespace flags need CAP_SYS_ADMIN.
#[rustfmt::skip]
const PROCESSES: &[&str] = &[
    "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "waitpid",
    "kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal", "process_mrelease",
    "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
    "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "restart_syscall",
    "get_thread_area", "set_thread_area", "prctl", "seccomp", "capget", "capset",
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self", "getrlimit",
    "setrlimit", "ugetrlimit", "prlimit64", "getrusage", "getpriority", "setpriority",
    "ioprio_get", "ioprio_set", "uretprobe",
];

/// Thread synchronisation.
#[rustfmt::skip]
const FUTEXES: &[&str] = &[
    "futex", "futex_time64", "futex_waitv", "futex_wait", "futex_wake", "futex_requeue",
];

/// User and group ids; the kernel still checks CAP_SETUID/CAP_SETGID on changes.
#[rustfmt::skip]
const IDENTITY: &[&str] = &[
    "getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid",
    "getegid32", "getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups",
    "getgroups32", "setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32",
    "setregid", "setregid32", "setresuid", "setresuid32", "setresgid", "setresgid32",
    "setfsuid", "setfsuid32", "setfsgid", "setfsgid32", "setgroups", "setgroups32",
];

/// Signals and interval timers.
#[rustfmt::skip]
const SIGNALS: &[&str] = &[
    "rt_sigaction", "rt_sigprocmask", "rt_sigpending", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
    "sigaltstack", "sigprocmask", "sigreturn", "pause", "alarm", "getitimer", "setitimer",
];

/// Reading clocks and sleeping. Setting the clock needs CAP_SYS_TIME; `adjtimex` and
/// `clock_adjtime` only read unless the caller holds it.
#[rustfmt::skip]
const TIME: &[&str] = &[
    "clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
    "clock_nanosleep", "clock_nanosleep_time64", "clock_adjtime", "clock_adjtime64",
    "adjtimex", "gettimeofday", "time", "times", "nanosleep", "timer_create", "timer_delete",
    "timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime", "timer_settime64",
];

/// CPU scheduling of the container's own tasks.
#[rustfmt::skip]
const SCHEDULING: &[&str] = &[
    "sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr",
    "sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler",
    "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
    "sched_rr_get_interval_time64", "getcpu",
];

/// System V and POSIX IPC, private to the container's IPC namespace.
#[rustfmt::skip]
const IPC: &[&str] = &[
    "ipc", "msgget", "msgctl", "msgsnd", "msgrcv", "semget", "semctl", "semop", "semtimedop",
    "semtimedop_time64", "shmget", "shmctl", "shmat", "shmdt", "mq_open", "mq_unlink",
    "mq_getsetattr", "mq_notify", "mq_timedsend", "mq_timedsend_time64", "mq_timedreceive",
    "mq_timedreceive_time64",
];

/// Sockets that already exist. Creating one (`socket`) is filtered by address family
/// and the multiplexed `socketcall` is refused; see `default_profile.rs`.
#[rustfmt::skip]
const NETWORK: &[&str] = &[
    "socketpair", "bind", "connect", "listen", "accept", "accept4", "getsockname",
    "getpeername", "getsockopt", "setsockopt", "send", "sendto", "sendmsg", "sendmmsg",
    "recv", "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64", "shutdown",
];

/// Information about the machine.
#[rustfmt::skip]
const SYSTEM: &[&str] = &["uname", "sysinfo", "getrandom", "riscv_hwprobe"];

/// Debugging another process of the container. Allowed without CAP_SYS_PTRACE only on
/// kernels from 4.8 on: before that, ptrace could change a tracee's syscall after
/// seccomp had checked it.
#[rustfmt::skip]
pub(super) const TRACING_SINCE_4_8: &[&str] = &["ptrace", "process_vm_readv", "process_vm_writev"];

/// Allowed only on the x86 family (x86_64, x86, x32).
#[rustfmt::skip]
pub(super) const X86_ONLY: &[&str] = &["arch_prctl", "modify_ldt"];

/// Allowed only on the ARM family (aarch64, arm).
#[rustfmt::skip]
pub(super) const ARM_ONLY: &[&str] = &[
    "arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush",
    "set_tls",
];

/// Extra syscalls a capability unlocks, in moby's pairing. CAP_SYS_ADMIN also lifts the
/// namespace restrictions on `clone`/`clone3`, which `default_profile.rs` handles.
#[rustfmt::skip]
pub(super) const BY_CAPABILITY: &[(Capability, &[&str])] = &[
    (Capability::DacReadSearch, &["open_by_handle_at"]),
    (
        Capability::SysAdmin,
        &[
            "bpf", "fanotify_init", "fsconfig", "fsmount", "fsopen", "fspick", "lookup_dcookie",
            "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "mount",
            "mount_setattr", "move_mount", "open_tree", "perf_event_open", "quotactl",
            "quotactl_fd", "setdomainname", "sethostname", "setns", "syslog", "umount",
            "umount2", "unshare",
        ],
    ),
    (Capability::SysBoot, &["reboot"]),
    (Capability::SysChroot, &["chroot"]),
    (Capability::SysModule, &["init_module", "finit_module", "delete_module"]),
    (Capability::SysPacct, &["acct"]),
    (
        Capability::SysPtrace,
        &["ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "process_madvise"],
    ),
    (Capability::SysRawio, &["iopl", "ioperm"]),
    (Capability::SysTime, &["settimeofday", "stime", "clock_settime", "clock_settime64"]),
    (Capability::SysTtyConfig, &["vhangup"]),
    (Capability::SysNice, &["get_mempolicy", "set_mempolicy", "set_mempolicy_home_node", "mbind"]),
    (Capability::Syslog, &["syslog"]),
    (Capability::Bpf, &["bpf"]),
    (Capability::Perfmon, &["perf_event_open"]),
];
