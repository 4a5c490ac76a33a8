//! Why a QEMU that is no longer running stopped: asked to, powered off by the guest, or
//! crashed. The evidence is on disk: the exit record left by the process that reaped QEMU,
//! and the stop marker left by whoever asked it to stop.

use super::files::{tail, Files};
use super::process::Exit;
use crate::backend::Status;

/// Lines of console shown with a crash.
pub const CONSOLE_TAIL_LINES: usize = 40;

pub fn decide(pid: u32, files: &Files) -> Status {
    let asked = files.stop_requested().exists();
    let console = || tail(&files.console(), CONSOLE_TAIL_LINES);
    let reason = match Exit::read(&files.qemu_exit()) {
        // `poweroff` in the guest, QMP quit: a clean exit, unless the console says the
        // kernel panicked (panic=-1 and -no-reboot make a panic exit QEMU with 0 too).
        Some(Exit::Code(0)) => {
            let tail = console();
            if !asked && tail.contains("Kernel panic") {
                return Status::Crashed {
                    reason: "the guest kernel panicked".into(),
                    console_tail: tail,
                };
            }
            return Status::Stopped;
        }
        _ if asked => return Status::Stopped,
        Some(exit) => exit.describe(),
        None => format!("QEMU (pid {pid}) exited while no Berth process was watching it"),
    };
    let mut console_tail = console();
    if console_tail.trim().is_empty() {
        // Nothing reached the console: QEMU's own complaint is the best clue.
        console_tail = tail(&files.qemu_log(), CONSOLE_TAIL_LINES);
    }
    Status::Crashed {
        reason,
        console_tail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        // (exit record, stop asked, console, expected: None = Stopped, Some(reason part))
        let cases: &[(Option<Exit>, bool, &str, Option<&str>)] = &[
            (Some(Exit::Code(0)), false, "bye\nreboot: Power down", None),
            (Some(Exit::Code(0)), true, "", None),
            (
                Some(Exit::Code(0)),
                false,
                "Kernel panic - not syncing",
                Some("panicked"),
            ),
            (Some(Exit::Signal(9)), true, "", None),
            (Some(Exit::Signal(9)), false, "MARK", Some("SIGKILL")),
            (Some(Exit::Code(1)), false, "MARK", Some("status 1")),
            (None, false, "MARK", Some("no Berth process")),
            (None, true, "", None),
        ];
        for (exit, asked, console, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            let files = Files::new(dir.path());
            if let Some(exit) = exit {
                exit.write(&files.qemu_exit());
            }
            if *asked {
                std::fs::write(files.stop_requested(), "").unwrap();
            }
            std::fs::write(files.console(), console).unwrap();
            match (decide(7, &files), expected) {
                (Status::Stopped, None) => {}
                (
                    Status::Crashed {
                        reason,
                        console_tail,
                    },
                    Some(part),
                ) => {
                    assert!(reason.contains(part), "{reason} lacks {part}");
                    assert_eq!(console_tail, *console);
                }
                (got, _) => panic!("{exit:?} {asked} {console:?}: got {got:?}"),
            }
        }
    }
}
