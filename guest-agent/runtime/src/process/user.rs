//! Switching to the process's user: supplementary groups, gid, uid, umask.

use nix::sys::stat::{umask, Mode};
use nix::unistd::{setgroups, setresgid, setresuid, Gid, Uid};
use oci_spec::runtime::User;

use crate::error::{Context, Result};

pub fn apply(user: &User, allow_setgroups: bool) -> Result<()> {
    let gid = Gid::from_raw(user.gid());
    let uid = Uid::from_raw(user.uid());
    if allow_setgroups {
        let groups: Vec<Gid> = user
            .additional_gids()
            .iter()
            .flatten()
            .map(|g| Gid::from_raw(*g))
            .collect();
        setgroups(&groups).context(|| format!("Cannot set supplementary groups {groups:?}"))?;
    }
    setresgid(gid, gid, gid).context(|| format!("Cannot switch to gid {gid}"))?;
    setresuid(uid, uid, uid).context(|| format!("Cannot switch to uid {uid}"))?;
    umask(Mode::from_bits_truncate(user.umask().unwrap_or(0o022)));
    Ok(())
}
