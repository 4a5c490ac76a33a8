//! The command line: docker-shaped verbs over the engine, for Linux users and tests until the
//! Docker API server exists.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "berth-agent",
    version,
    about = "Berth's container engine (native Linux command line)"
)]
pub struct Cli {
    /// Images, layers, volumes and containers.
    #[arg(long, global = true, default_value = "/var/lib/berth")]
    pub root: PathBuf,
    /// berth-runtime's state (a tmpfs).
    #[arg(long, global = true, default_value = "/run/berth/runtime")]
    pub runtime_root: PathBuf,
    /// Log debug output.
    #[arg(long, global = true)]
    pub debug: bool,
    /// `serve`: a folder shared from the host (in the VM; repeat for each). Bind mounts
    /// whose source lies outside every shared folder are then refused ("Mounts denied").
    /// Without it, natively on Linux, any bind source is allowed.
    #[arg(long = "shared-path", global = true, value_name = "PATH")]
    pub shared_paths: Vec<PathBuf>,
    /// `serve`: refuse bind mounts from outside the --shared-path folders even when
    /// there are none (a VM that shares no folder).
    #[arg(long, global = true)]
    pub shares_only: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the Docker Engine API (the `docker` CLI, compose and SDKs talk to it) and
    /// supervise containers: restart policies, events.
    Serve {
        /// The Unix socket to listen on; point clients at it with
        /// DOCKER_HOST=unix://PATH.
        #[arg(long, short = 'H', default_value = crate::api::DEFAULT_SOCKET)]
        socket: PathBuf,
        /// Also serve the API on this vsock port (in the VM: 2375, which the host
        /// forwards its docker.sock to).
        #[arg(long)]
        vsock_port: Option<u32>,
    },
    /// Serve the host<->VM control protocol (hello, health, exec, port events, forward)
    /// on a Unix socket, beside an engine started with `serve`. In the VM the agent serves
    /// it on vsock as PID 1; natively time-sync and shutdown answer errors.
    Control {
        /// The Unix socket to listen on.
        #[arg(long)]
        unix: PathBuf,
        /// The engine's Docker API socket (for port events, health, shutdown).
        #[arg(long, default_value = crate::api::DEFAULT_SOCKET)]
        docker_socket: PathBuf,
    },
    /// The VM's init (PID 1 runs it without being asked).
    #[command(hide = true)]
    Init,
    /// Load images from an OCI layout (dir or tar) or a `docker save` archive.
    Load { path: PathBuf },
    /// List images.
    Images,
    /// Create and start a container; without -d, print its output and exit with its code.
    Run(RunArgs),
    /// List containers (running only, unless -a).
    Ps {
        #[arg(short, long)]
        all: bool,
    },
    /// Print a container's log.
    Logs {
        #[arg(short, long)]
        follow: bool,
        /// Only the last N lines.
        #[arg(long)]
        tail: Option<usize>,
        #[arg(short, long)]
        timestamps: bool,
        container: String,
    },
    /// Start stopped containers.
    Start { containers: Vec<String> },
    /// Stop containers (signal, then SIGKILL after the timeout).
    Stop {
        #[arg(short, long)]
        time: Option<u32>,
        containers: Vec<String>,
    },
    /// Remove containers.
    Rm {
        #[arg(short, long)]
        force: bool,
        /// Also remove the container's anonymous volumes.
        #[arg(short, long)]
        volumes: bool,
        containers: Vec<String>,
    },
    /// Wait for containers to exit and print their exit codes.
    Wait { containers: Vec<String> },
    /// Run a command in a running container; exits with its code.
    Exec(ExecArgs),
    /// Attach to a running container's output (and stdin); detach with ctrl-p,ctrl-q.
    Attach {
        /// The detach sequence (ctrl-X or single characters, comma-separated).
        #[arg(long)]
        detach_keys: Option<String>,
        /// Do not send this program's stdin to the container.
        #[arg(long)]
        no_stdin: bool,
        container: String,
    },
    /// Show the processes of a running container.
    Top { container: String },
    /// Show one sample of a container's CPU time, memory, pids, block io and network bytes.
    Stats { containers: Vec<String> },
    /// Copy out as a tar (`CONTAINER:PATH -`) or in from a tar (`- CONTAINER:DIR`).
    Cp { source: String, destination: String },
    /// Remove images.
    Rmi {
        #[arg(short, long)]
        force: bool,
        images: Vec<String>,
    },
    /// Manage images (`image prune`).
    Image {
        #[command(subcommand)]
        command: ImageCommand,
    },
    /// The per-container monitor (started by the engine, not by hand).
    #[command(hide = true)]
    Monitor,
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Remove dangling images (with -a, every image no container uses) and the blobs and
    /// layers nothing needs any more.
    Prune {
        #[arg(short, long)]
        all: bool,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run in the background and print the container id.
    #[arg(short, long)]
    pub detach: bool,
    /// Remove the container when it exits.
    #[arg(long)]
    pub rm: bool,
    #[arg(long)]
    pub name: Option<String>,
    /// Environment variables (KEY=VALUE).
    #[arg(short, long)]
    pub env: Vec<String>,
    /// Volumes: NAME:/path or /host/path:/path, with an optional :ro.
    #[arg(short, long)]
    pub volume: Vec<String>,
    /// Working directory inside the container.
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// user[:group] to run as.
    #[arg(short, long)]
    pub user: Option<String>,
    #[arg(long)]
    pub hostname: Option<String>,
    /// Keep the container's stdin open (for `attach`).
    #[arg(short, long)]
    pub interactive: bool,
    /// Give the container a terminal.
    #[arg(short, long)]
    pub tty: bool,
    pub image: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Environment variables (KEY=VALUE).
    #[arg(short, long)]
    pub env: Vec<String>,
    /// Working directory inside the container.
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// user[:group] to run as.
    #[arg(short, long)]
    pub user: Option<String>,
    /// With -t: send this program's stdin to the terminal (without -t stdin always goes).
    #[arg(short, long)]
    pub interactive: bool,
    /// Run the command on a terminal.
    #[arg(short, long)]
    pub tty: bool,
    /// With -t: the terminal's size, ROWSxCOLS (default: this program's terminal's).
    #[arg(long, hide = true, value_parser = parse_size)]
    pub size: Option<(u16, u16)>,
    pub container: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub command: Vec<String>,
}

/// `ROWSxCOLS`, both non-zero.
fn parse_size(spec: &str) -> Result<(u16, u16), String> {
    let parsed = spec
        .split_once('x')
        .and_then(|(r, c)| Some((r.parse::<u16>().ok()?, c.parse::<u16>().ok()?)));
    match parsed {
        Some((rows, cols)) if rows > 0 && cols > 0 => Ok((rows, cols)),
        _ => Err(format!("invalid size {spec:?}: expected ROWSxCOLS")),
    }
}
