//! Translating a spec mount's `options` into mount(2) flags, propagation flags and data.

use nix::mount::MsFlags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountOptions {
    /// Flags for the mount(2) call itself.
    pub flags: MsFlags,
    /// Flags that need a second, MS_REMOUNT call on bind mounts (ro, nosuid, ...).
    pub clear: MsFlags,
    /// Propagation changes applied after the mount (MS_SHARED, MS_SLAVE|MS_REC, ...).
    pub propagation: Vec<MsFlags>,
    /// Everything the kernel does not know as a flag goes to the filesystem as data.
    pub data: Vec<String>,
    pub bind: bool,
    pub recursive: bool,
}

impl Default for MountOptions {
    fn default() -> Self {
        MountOptions {
            flags: MsFlags::empty(),
            clear: MsFlags::empty(),
            propagation: Vec::new(),
            data: Vec::new(),
            bind: false,
            recursive: false,
        }
    }
}

impl MountOptions {
    pub fn parse(options: &[String]) -> Result<Self, String> {
        let mut out = MountOptions::default();
        for option in options {
            let opt = option.as_str();
            if let Some((set, flag)) = flag_option(opt) {
                if set {
                    out.flags |= flag;
                    out.clear.remove(flag);
                } else {
                    out.flags.remove(flag);
                    out.clear |= flag;
                }
                continue;
            }
            if let Some(flag) = propagation_option(opt) {
                out.propagation.push(flag);
                continue;
            }
            match opt {
                "bind" => out.bind = true,
                "rbind" => {
                    out.bind = true;
                    out.recursive = true;
                }
                // Runtime extensions that need kernel features Berth does not use.
                "idmap" | "ridmap" => {
                    return Err(format!(
                        "mount option {opt:?} (id-mapped mounts) is not supported"
                    ))
                }
                // crun's "copy the image content up into the tmpfs" hint: harmless to skip.
                "tmpcopyup" => {}
                _ if opt.is_empty() => {}
                _ => out.data.push(opt.to_string()),
            }
        }
        Ok(out)
    }

    pub fn data(&self) -> Option<String> {
        (!self.data.is_empty()).then(|| self.data.join(","))
    }

    /// The flags that matter when remounting a bind mount (the kernel ignores them on the
    /// first MS_BIND call).
    pub fn remount_flags(&self) -> MsFlags {
        self.flags
            & (MsFlags::MS_RDONLY
                | MsFlags::MS_NOSUID
                | MsFlags::MS_NODEV
                | MsFlags::MS_NOEXEC
                | MsFlags::MS_NOATIME
                | MsFlags::MS_NODIRATIME
                | MsFlags::MS_RELATIME
                | MsFlags::MS_STRICTATIME)
    }
}

/// (true = set, false = clear) for the options that are mount flags.
fn flag_option(opt: &str) -> Option<(bool, MsFlags)> {
    let entry = match opt {
        "ro" => (true, MsFlags::MS_RDONLY),
        "rw" => (false, MsFlags::MS_RDONLY),
        "nosuid" => (true, MsFlags::MS_NOSUID),
        "suid" => (false, MsFlags::MS_NOSUID),
        "nodev" => (true, MsFlags::MS_NODEV),
        "dev" => (false, MsFlags::MS_NODEV),
        "noexec" => (true, MsFlags::MS_NOEXEC),
        "exec" => (false, MsFlags::MS_NOEXEC),
        "sync" => (true, MsFlags::MS_SYNCHRONOUS),
        "async" => (false, MsFlags::MS_SYNCHRONOUS),
        "dirsync" => (true, MsFlags::MS_DIRSYNC),
        "remount" => (true, MsFlags::MS_REMOUNT),
        "mand" => (true, MsFlags::MS_MANDLOCK),
        "nomand" => (false, MsFlags::MS_MANDLOCK),
        "atime" => (false, MsFlags::MS_NOATIME),
        "noatime" => (true, MsFlags::MS_NOATIME),
        "diratime" => (false, MsFlags::MS_NODIRATIME),
        "nodiratime" => (true, MsFlags::MS_NODIRATIME),
        "relatime" => (true, MsFlags::MS_RELATIME),
        "norelatime" => (false, MsFlags::MS_RELATIME),
        "strictatime" => (true, MsFlags::MS_STRICTATIME),
        "nostrictatime" => (false, MsFlags::MS_STRICTATIME),
        _ => return None,
    };
    Some(entry)
}

pub fn propagation_option(opt: &str) -> Option<MsFlags> {
    let flag = match opt {
        "private" => MsFlags::MS_PRIVATE,
        "rprivate" => MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        "shared" => MsFlags::MS_SHARED,
        "rshared" => MsFlags::MS_SHARED | MsFlags::MS_REC,
        "slave" => MsFlags::MS_SLAVE,
        "rslave" => MsFlags::MS_SLAVE | MsFlags::MS_REC,
        "unbindable" => MsFlags::MS_UNBINDABLE,
        "runbindable" => MsFlags::MS_UNBINDABLE | MsFlags::MS_REC,
        _ => return None,
    };
    Some(flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(opts: &[&str]) -> MountOptions {
        MountOptions::parse(&opts.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn flags_propagation_and_data_are_separated() {
        let o = parse(&["rbind", "ro", "nosuid", "rslave", "mode=755", "size=65536k"]);
        assert!(o.bind && o.recursive);
        assert_eq!(o.flags, MsFlags::MS_RDONLY | MsFlags::MS_NOSUID);
        assert_eq!(o.propagation, vec![MsFlags::MS_SLAVE | MsFlags::MS_REC]);
        assert_eq!(o.data().as_deref(), Some("mode=755,size=65536k"));
    }

    #[test]
    fn later_options_override_earlier_ones() {
        let o = parse(&["ro", "rw", "noexec", "exec"]);
        assert!(o.flags.is_empty());
    }

    #[test]
    fn idmapped_mounts_are_refused_clearly() {
        let err = MountOptions::parse(&["idmap".to_string()]).unwrap_err();
        assert!(err.contains("idmap"));
    }
}
