//! `berth doctor`: what this machine offers Berth and what is missing, each with a fix.

use std::time::Duration;

use berth_host::daemon::vm_setup::image_dir;
use berth_host::settings::Settings;
use berth_host::state::StateDirs;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{paths, print_json};

#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Verdict {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Serialize)]
struct Check {
    name: &'static str,
    verdict: Verdict,
    detail: String,
}

fn check(name: &'static str, verdict: Verdict, detail: impl Into<String>) -> Check {
    Check {
        name,
        verdict,
        detail: detail.into(),
    }
}

pub async fn doctor(dirs: &StateDirs, json: bool) -> anyhow::Result<i32> {
    let settings = Settings::load(dirs).unwrap_or_default();
    let mut checks = Vec::new();
    let image = image_dir(&settings);
    checks.push(match &image {
        Ok(dir) => check("guest image", Verdict::Ok, dir.display().to_string()),
        Err(e) => check("guest image", Verdict::Fail, e.clone()),
    });
    #[cfg(target_os = "linux")]
    linux::checks(dirs, image.ok(), &mut checks);
    checks.push(docker_socket(dirs).await);
    checks.push(disk_space(dirs));
    if json {
        print_json(&checks)?;
    } else {
        for c in &checks {
            let mark = match c.verdict {
                Verdict::Ok => "ok  ",
                Verdict::Warn => "warn",
                Verdict::Fail => "FAIL",
            };
            println!("{mark}  {:<14} {}", c.name, c.detail);
        }
    }
    Ok(if checks.iter().any(|c| c.verdict == Verdict::Fail) {
        1
    } else {
        0
    })
}

/// Is the Docker socket served: `GET /_ping` through it.
async fn docker_socket(dirs: &StateDirs) -> Check {
    let path = paths(dirs).docker_socket;
    let ping = async {
        let mut conn = tokio::net::UnixStream::connect(&path).await?;
        conn.write_all(b"GET /_ping HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n")
            .await?;
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&answer).into_owned())
    };
    match tokio::time::timeout(Duration::from_secs(5), ping).await {
        Ok(Ok(answer)) if answer.starts_with("HTTP/1.1 200") => check(
            "docker socket",
            Verdict::Ok,
            format!("unix://{} answers", path.display()),
        ),
        Ok(Ok(answer)) => check(
            "docker socket",
            Verdict::Fail,
            format!("unexpected answer: {}", answer.lines().next().unwrap_or("")),
        ),
        _ => check(
            "docker socket",
            Verdict::Warn,
            format!(
                "unix://{} does not answer (is Berth started?)",
                path.display()
            ),
        ),
    }
}

fn disk_space(dirs: &StateDirs) -> Check {
    let dir = if dirs.data.exists() {
        &dirs.data
    } else {
        std::path::Path::new("/")
    };
    match nix::sys::statvfs::statvfs(dir) {
        Ok(st) => {
            // The field types differ per OS (u32 on macOS): the casts are for those.
            #[allow(clippy::unnecessary_cast)]
            let free = st.blocks_available() as u64 * st.fragment_size() as u64;
            let gib = free as f64 / (1u64 << 30) as f64;
            // The data disk is sparse: it grows with images and volumes.
            let verdict = if gib < 5.0 {
                Verdict::Warn
            } else {
                Verdict::Ok
            };
            check(
                "disk space",
                verdict,
                format!("{gib:.1} GiB free in {}", dir.display()),
            )
        }
        Err(e) => check(
            "disk space",
            Verdict::Warn,
            format!("{}: {e}", dir.display()),
        ),
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::path::{Path, PathBuf};

    use berth_host::backend::qemu::accel::{self, ProbeSetup};
    use berth_host::backend::qemu::binary;
    use berth_host::backend::qemu::files::Files;
    use berth_host::backend::qemu::Accel;
    use berth_host::state::StateDirs;

    use super::{check, Check, Verdict};

    pub fn checks(dirs: &StateDirs, image: Option<PathBuf>, out: &mut Vec<Check>) {
        let path = std::env::var_os("PATH");
        let qemu = binary::which(binary::QEMU, path.as_deref());
        out.push(match &qemu {
            Some(q) => check(
                "qemu",
                Verdict::Ok,
                binary::version_line(q).unwrap_or_else(|_| q.display().to_string()),
            ),
            None => check(
                "qemu",
                Verdict::Fail,
                "qemu-system-x86_64 not found: apt-get install qemu-system-x86",
            ),
        });
        out.push(match (&qemu, image) {
            (Some(q), Some(image)) => accel_check(dirs, q, &image),
            _ => check(
                "accelerator",
                Verdict::Warn,
                "unknown (needs QEMU and the guest image)",
            ),
        });
        out.push(if Path::new("/dev/vhost-vsock").exists() {
            check("vsock", Verdict::Ok, "vhost-vsock (/dev/vhost-vsock)")
        } else {
            match binary::find_vhost_device_vsock(path.as_deref()) {
                Ok(p) => match binary::vhost_device_vsock_version(&p) {
                    Ok((version, true)) => {
                        check("vsock", Verdict::Ok, format!("{version} ({})", p.display()))
                    }
                    Ok((version, false)) => check(
                        "vsock",
                        Verdict::Warn,
                        format!(
                            "{version} ({}) is a stock build, which can stall two-way streams \
                             under load: install Berth's with scripts/vhost-device-vsock/install",
                            p.display()
                        ),
                    ),
                    Err(e) => check("vsock", Verdict::Fail, e.to_string()),
                },
                Err(e) => check("vsock", Verdict::Fail, e.to_string()),
            }
        });
        out.push(match virtiofsd(path.as_deref()) {
            Some(p) => check("virtiofsd", Verdict::Ok, p.display().to_string()),
            None => check(
                "virtiofsd",
                Verdict::Warn,
                "not found: shared folders need it (`cargo install virtiofsd` or apt-get install virtiofsd)",
            ),
        });
    }

    /// The backend's own verdict (cached per QEMU and kernel; BERTH_ACCEL overrides).
    fn accel_check(dirs: &StateDirs, qemu: &Path, image: &Path) -> Check {
        let _ = std::fs::create_dir_all(&dirs.run);
        let setup = ProbeSetup {
            qemu: qemu.to_path_buf(),
            kernel: image.join("vmlinuz"),
            kvm_device: "/dev/kvm".into(),
            timeout: accel::PROBE_TIMEOUT,
        };
        let override_ = std::env::var("BERTH_ACCEL").ok();
        match accel::choose(&setup, &Files::new(&dirs.run), override_.as_deref()) {
            Ok(choice) => {
                let (name, verdict) = match choice.accel {
                    Accel::Kvm => ("KVM", Verdict::Ok),
                    Accel::Tcg => ("TCG", Verdict::Warn),
                };
                check("accelerator", verdict, format!("{name}: {}", choice.reason))
            }
            Err(e) => check("accelerator", Verdict::Fail, e.to_string()),
        }
    }

    fn virtiofsd(path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
        binary::which("virtiofsd", path).or_else(|| {
            let home = std::env::var_os("HOME").map(PathBuf::from);
            [
                Some(PathBuf::from("/usr/libexec/virtiofsd")),
                Some(PathBuf::from("/usr/lib/qemu/virtiofsd")),
                home.map(|h| h.join(".cargo/bin/virtiofsd")),
            ]
            .into_iter()
            .flatten()
            .find(|p| p.is_file())
        })
    }
}
