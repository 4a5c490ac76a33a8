//! `exec`: the process comes from `--process FILE`, or from the command line with the
//! container's own process settings (env, cwd, user, capabilities) as defaults, as runc does.

use std::path::{Path, PathBuf};

use anyhow::Context;
use berth_runtime::{Container, ExecOptions};
use clap::Args;
use oci_spec::runtime::{Capability, Process};

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// A JSON file holding the OCI process to run (overrides the other process flags).
    #[arg(short, long)]
    pub process: Option<PathBuf>,
    /// Unix socket that receives the pty master when --tty is set.
    #[arg(long)]
    pub console_socket: Option<PathBuf>,
    /// Working directory inside the container.
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Extra environment variables (KEY=VALUE).
    #[arg(short, long)]
    pub env: Vec<String>,
    /// Allocate a pseudo-terminal.
    #[arg(short, long)]
    pub tty: bool,
    /// uid[:gid] to run as.
    #[arg(short, long)]
    pub user: Option<String>,
    /// Additional gids.
    #[arg(short = 'g', long = "additional-gids")]
    pub additional_gids: Vec<u32>,
    /// Extra capabilities (e.g. CAP_NET_ADMIN).
    #[arg(short, long)]
    pub cap: Vec<String>,
    /// Set no_new_privs for the process.
    #[arg(long)]
    pub no_new_privs: bool,
    /// Return once the process runs.
    #[arg(short, long)]
    pub detach: bool,
    /// Write the process's pid to this file.
    #[arg(long)]
    pub pid_file: Option<PathBuf>,
    /// Pass this many extra fds (3, 4, ...) to the process.
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    /// Accepted for runc compatibility (SELinux/AppArmor are not used by Berth).
    #[arg(long, hide = true)]
    pub process_label: Option<String>,
    #[arg(long, hide = true)]
    pub apparmor: Option<String>,
    /// Container id.
    pub id: String,
    /// Command and arguments (unless --process is given).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

pub fn run(root: &Path, args: ExecArgs) -> anyhow::Result<u8> {
    let container = Container::load(root, &args.id)?;
    let process = match &args.process {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("Cannot read process file {}", path.display()))?;
            serde_json::from_str::<Process>(&text)
                .with_context(|| format!("Invalid process file {}", path.display()))?
        }
        None => process_from_flags(&container, &args)?,
    };
    let outcome = container.exec(ExecOptions {
        process,
        console_socket: args.console_socket,
        pid_file: args.pid_file,
        detach: args.detach,
        preserve_fds: args.preserve_fds,
    })?;
    Ok(outcome
        .exit_code
        .map(|c| u8::try_from(c).unwrap_or(255))
        .unwrap_or(0))
}

fn process_from_flags(container: &Container, args: &ExecArgs) -> anyhow::Result<Process> {
    anyhow::ensure!(
        !args.command.is_empty(),
        "exec needs a command, or --process FILE"
    );
    let bundle = container.bundle()?;
    let mut process = bundle.process()?.clone();
    process.set_args(Some(args.command.clone()));
    process.set_terminal(Some(args.tty));
    let mut env = process.env().clone().unwrap_or_default();
    env.extend(args.env.iter().cloned());
    process.set_env(Some(env));
    if let Some(cwd) = &args.cwd {
        process.set_cwd(cwd.clone());
    }
    if let Some(user) = &args.user {
        let (uid, gid) = match user.split_once(':') {
            Some((u, g)) => (u.parse::<u32>()?, Some(g.parse::<u32>()?)),
            None => (
                user.parse::<u32>()
                    .with_context(|| format!("--user {user:?} is not uid[:gid]"))?,
                None,
            ),
        };
        let mut u = process.user().clone();
        u.set_uid(uid);
        if let Some(g) = gid {
            u.set_gid(g);
        }
        process.set_user(u);
    }
    if !args.additional_gids.is_empty() {
        let mut u = process.user().clone();
        u.set_additional_gids(Some(args.additional_gids.clone()));
        process.set_user(u);
    }
    if !args.cap.is_empty() {
        let mut caps = process.capabilities().clone().unwrap_or_default();
        for name in &args.cap {
            let cap: Capability = name
                .trim_start_matches("CAP_")
                .parse()
                .with_context(|| format!("unknown capability {name:?}"))?;
            let add = |s: &Option<oci_spec::runtime::Capabilities>| {
                let mut s = s.clone().unwrap_or_default();
                s.insert(cap);
                Some(s)
            };
            caps.set_bounding(add(caps.bounding()));
            caps.set_effective(add(caps.effective()));
            caps.set_permitted(add(caps.permitted()));
        }
        process.set_capabilities(Some(caps));
    }
    if args.no_new_privs {
        process.set_no_new_privileges(Some(true));
    }
    Ok(process)
}
