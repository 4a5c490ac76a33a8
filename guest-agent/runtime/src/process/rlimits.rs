//! process.rlimits. Raising a hard limit needs CAP_SYS_RESOURCE; without it the kernel says
//! EPERM, which we turn into a message that says which limit and why.

use nix::sys::resource::{getrlimit, setrlimit, Resource};
use oci_spec::runtime::{PosixRlimit, PosixRlimitType};

use crate::error::{Result, RuntimeError};

pub fn resource(typ: PosixRlimitType) -> Resource {
    use PosixRlimitType::*;
    match typ {
        RlimitCpu => Resource::RLIMIT_CPU,
        RlimitFsize => Resource::RLIMIT_FSIZE,
        RlimitData => Resource::RLIMIT_DATA,
        RlimitStack => Resource::RLIMIT_STACK,
        RlimitCore => Resource::RLIMIT_CORE,
        RlimitRss => Resource::RLIMIT_RSS,
        RlimitNproc => Resource::RLIMIT_NPROC,
        RlimitNofile => Resource::RLIMIT_NOFILE,
        RlimitMemlock => Resource::RLIMIT_MEMLOCK,
        RlimitAs => Resource::RLIMIT_AS,
        RlimitLocks => Resource::RLIMIT_LOCKS,
        RlimitSigpending => Resource::RLIMIT_SIGPENDING,
        RlimitMsgqueue => Resource::RLIMIT_MSGQUEUE,
        RlimitNice => Resource::RLIMIT_NICE,
        RlimitRtprio => Resource::RLIMIT_RTPRIO,
        RlimitRttime => Resource::RLIMIT_RTTIME,
    }
}

pub fn apply(rlimits: &[PosixRlimit]) -> Result<()> {
    for limit in rlimits {
        if limit.soft() > limit.hard() {
            return Err(RuntimeError::InvalidSpec(format!(
                "rlimit {:?}: soft limit {} is above hard limit {}",
                limit.typ(),
                limit.soft(),
                limit.hard()
            )));
        }
        let res = resource(limit.typ());
        if let Err(e) = setrlimit(res, limit.soft(), limit.hard()) {
            let current = getrlimit(res)
                .map(|(_, h)| h.to_string())
                .unwrap_or_else(|_| "?".into());
            let hint = if e == nix::Error::EPERM {
                format!(
                    " (the current hard limit is {current}; raising it needs CAP_SYS_RESOURCE, which this host's root lacks)"
                )
            } else {
                String::new()
            };
            return Err(RuntimeError::Setup(format!(
                "cannot set rlimit {:?} to {}:{}: {}{hint}",
                limit.typ(),
                limit.soft(),
                limit.hard(),
                e.desc()
            )));
        }
    }
    Ok(())
}
