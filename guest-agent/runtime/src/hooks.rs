//! OCI hooks: each runs with the container's state JSON on stdin, its own args and env,
//! and an optional timeout after which it is killed and reported.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use oci_spec::runtime::Hook;

use crate::error::{Result, RuntimeError};

pub fn run_all(hooks: Option<&Vec<Hook>>, state_json: &str) -> Result<()> {
    for hook in hooks.into_iter().flatten() {
        run(hook, state_json)?;
    }
    Ok(())
}

fn run(hook: &Hook, state_json: &str) -> Result<()> {
    let fail = |reason: String| RuntimeError::Hook {
        path: hook.path().clone(),
        reason,
    };
    let args = hook.args().clone().unwrap_or_default();
    let mut cmd = Command::new(hook.path());
    if let Some((argv0, rest)) = args.split_first() {
        cmd.arg0(argv0).args(rest);
    }
    cmd.env_clear()
        .envs(
            hook.env()
                .iter()
                .flatten()
                .filter_map(|e| e.split_once('=')),
        )
        .stdin(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| fail(format!("cannot start: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its stdin is fine: ignore EPIPE.
        let _ = stdin.write_all(state_json.as_bytes());
    }
    let deadline = hook
        .timeout()
        .filter(|t| *t > 0)
        .map(|t| Instant::now() + Duration::from_secs(t as u64));
    loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| fail(format!("cannot wait: {e}")))?
        {
            if status.success() {
                return Ok(());
            }
            return Err(fail(format!("exited with {status}")));
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(fail(format!(
                "timed out after {}s",
                hook.timeout().unwrap_or(0)
            )));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::HookBuilder;

    #[test]
    fn hooks_get_state_on_stdin_and_failures_and_timeouts_are_reported() {
        let out = std::env::temp_dir().join(format!("berth-hook-test-{}", std::process::id()));
        let ok = HookBuilder::default()
            .path("/bin/sh")
            .args(vec![
                "sh".into(),
                "-c".into(),
                format!("cat > {}", out.display()),
            ])
            .build()
            .unwrap();
        run_all(Some(&vec![ok]), "{\"id\":\"x\"}").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"id\":\"x\"}");
        std::fs::remove_file(&out).unwrap();

        let failing = HookBuilder::default().path("/bin/false").build().unwrap();
        let err = run_all(Some(&vec![failing]), "{}").unwrap_err().to_string();
        assert!(err.contains("/bin/false") && err.contains("exit"), "{err}");

        let slow = HookBuilder::default()
            .path("/bin/sleep")
            .args(vec!["sleep".into(), "10".into()])
            .timeout(1)
            .build()
            .unwrap();
        let started = Instant::now();
        let err = run_all(Some(&vec![slow]), "{}").unwrap_err().to_string();
        assert!(err.contains("timed out"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
