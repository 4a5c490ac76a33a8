//! Seccomp: turning an OCI `linux.seccomp` section into a kernel filter and loading it.
//!
//! [`compile`] translates the profile with libseccomp; [`load_compiled`] installs the
//! result in the calling thread right before `execve`, and [`load`] does both. Compile
//! before forking when the forking process may be multithreaded: libseccomp allocates.
//! [`default_profile`] is the profile Berth applies when the user asks for none:
//! moby's allow-list, plus refusing `AF_VSOCK` and `AF_ALG` sockets (also through
//! 32-bit x86's `socketcall`) so no container can talk to the VM's agent or the host.

mod compile;
mod default_profile;
mod syscalls;
#[cfg(test)]
mod tests;

use libseccomp::error::SeccompError as ScmpError;
use libseccomp::ScmpFilterContext;
use oci_spec::runtime::{Arch, LinuxSeccomp, LinuxSeccompFilterFlag};

pub use compile::compile;
pub use default_profile::{default_profile, default_profile_for, DEFAULT_CAPABILITIES};

/// Everything that can go wrong while reading, compiling or loading a seccomp profile.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// The profile is not valid JSON for `linux.seccomp` (an unknown action, architecture,
    /// operator or flag name is reported by the source with the offending value).
    #[error("Invalid seccomp profile")]
    Parse(#[source] serde_json::Error),

    /// The profile asks for something Berth does not implement.
    #[error("Unsupported seccomp feature: {0}")]
    Unsupported(&'static str),

    /// A syscall rule compares an argument that does not exist (syscalls have six).
    #[error("Seccomp rule for {syscalls} compares argument {index}, but only 0 to 5 exist")]
    ArgIndex {
        /// The names of the rule, comma separated.
        syscalls: String,
        /// The offending index.
        index: usize,
    },

    /// An `errnoRet` does not fit the 16 bits the kernel keeps for it.
    #[error("Seccomp errnoRet {0} is out of range (0 to 65535)")]
    ErrnoRet(u32),

    /// libseccomp refused to create the filter.
    #[error("Cannot create the seccomp filter")]
    Init(#[source] ScmpError),

    /// This libseccomp build or kernel does not know the architecture.
    #[error("Seccomp architecture {arch} is not supported here")]
    Arch {
        /// The architecture from the profile.
        arch: Arch,
        /// Why libseccomp refused it.
        #[source]
        source: ScmpError,
    },

    /// This libseccomp or kernel cannot honour a filter flag.
    #[error("Seccomp filter flag {flag} is not supported here")]
    Flag {
        /// The flag from the profile.
        flag: LinuxSeccompFilterFlag,
        /// Why libseccomp refused it.
        #[source]
        source: ScmpError,
    },

    /// libseccomp refused a rule (for instance two rules with the same conditions but
    /// different actions).
    #[error("Cannot add the seccomp rule for syscall {syscall}")]
    Rule {
        /// The syscall name from the profile.
        syscall: String,
        /// Why libseccomp refused it.
        #[source]
        source: ScmpError,
    },

    /// The kernel refused the filter. Without no_new_privs the caller needs
    /// CAP_SYS_ADMIN.
    #[error("Cannot load the seccomp filter into the kernel")]
    Load(#[source] ScmpError),
}

/// Reads a `linux.seccomp` section from JSON, reporting unknown names clearly.
///
/// `config.json` as a whole is parsed elsewhere; this is for profiles given on their
/// own (a file named by the user, a test fixture).
pub fn parse_profile(json: &str) -> Result<LinuxSeccomp, SeccompError> {
    serde_json::from_str(json).map_err(SeccompError::Parse)
}

/// Compiles `profile` and loads it into the calling thread.
///
/// This is the whole job for a caller that may allocate; after `fork` in a
/// multithreaded process use [`compile`] before forking and [`load_compiled`] after.
/// See [`load_compiled`] for the privileges it needs.
pub fn load(profile: &LinuxSeccomp) -> Result<(), SeccompError> {
    let ctx = compile(profile)?;
    load_compiled(&ctx)
}

/// Loads a filter made by [`compile`] into the calling thread (every thread, if the
/// profile asked for `SECCOMP_FILTER_FLAG_TSYNC`).
///
/// The kernel accepts a filter only if the thread has set no_new_privs
/// (`prctl(PR_SET_NO_NEW_PRIVS, 1)`) or holds CAP_SYS_ADMIN in its user namespace;
/// [`compile`] deliberately leaves no_new_privs alone, since the OCI process decides it
/// with `noNewPrivileges`. So call this in the container init after no_new_privs is
/// set, or, when it is not, while CAP_SYS_ADMIN is still held, i.e. before dropping
/// capabilities. It should be the last step before `execve`, because the filter also
/// applies to the runtime's remaining syscalls. Filters are inherited across `fork`
/// and `execve` and can never be removed.
pub fn load_compiled(ctx: &ScmpFilterContext) -> Result<(), SeccompError> {
    ctx.load().map_err(SeccompError::Load)
}
