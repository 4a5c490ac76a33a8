//! `delete`: a stopped (or, with force, any) container loses its processes, cgroup and
//! state; poststop hooks run last. Its mounts lived in its own mount namespace and went
//! with its last process.

use super::Container;
use crate::error::{Result, RuntimeError};
use crate::state::Status;

impl Container {
    pub fn delete(self, force: bool) -> Result<()> {
        match self.status() {
            Status::Stopped => {}
            // A created container never ran the user's process: deleting it is safe.
            Status::Created | Status::Creating => self.kill_and_wait()?,
            Status::Running if force => self.kill_and_wait()?,
            status => {
                return Err(RuntimeError::WrongState {
                    id: self.state.id.clone(),
                    status: status.to_string(),
                    action: "delete",
                    expected: "stopped (or use --force)",
                })
            }
        }
        self.cgroup()?.destroy()?;
        let hooks = self
            .bundle()
            .ok()
            .and_then(|b| b.spec.hooks().clone())
            .unwrap_or_default();
        let mut state = self.state.to_oci_json();
        state["status"] = "stopped".into();
        if let Err(e) = crate::hooks::run_all(hooks.poststop().as_ref(), &state.to_string()) {
            tracing::warn!("{}", crate::error::chain(&e));
        }
        std::fs::remove_dir_all(self.dir()).map_err(|source| RuntimeError::Io {
            context: format!("Cannot remove state of {}", self.state.id),
            source,
        })
    }
}
