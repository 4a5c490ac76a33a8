//! The command line, as clap reads it. Help texts are the user's manual: keep them useful.

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "berth",
    version,
    about = "Berth: Linux containers in a lightweight VM, driven by the docker CLI",
    long_about = "Berth runs a small Linux VM whose agent serves the Docker API. `berth start` \
                  boots it in the background; point the docker CLI at it with `berth context`.\n\n\
                  Files live in BERTH_HOME when it is set (tests, portable installs).",
    after_help = "Getting started:\n  berth start\n  berth context\n  docker run --rm berth/hello"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start Berth: spawn the daemon if needed and boot the VM (or reattach to it)
    Start,
    /// Stop the VM (containers get 10 s to exit) and the daemon
    Stop,
    /// Stop and start the VM again (applies changed settings)
    Restart,
    /// Show the VM, agent, engine, forwarded ports and port errors
    Status {
        /// Print the status as JSON
        #[arg(long)]
        json: bool,
    },
    /// Show the daemon's events: phases, ports opened and closed, port errors
    Events {
        /// Keep printing events as they happen
        #[arg(short, long)]
        follow: bool,
        #[arg(long)]
        json: bool,
    },
    /// Show a log: the VM's console, the agent's lines in it, or the daemon's
    Logs {
        #[arg(value_enum, default_value_t = LogSource::Console)]
        source: LogSource,
        /// Keep printing new lines as they are written
        #[arg(short, long)]
        follow: bool,
        /// How many lines from the end to show first (0: all)
        #[arg(short = 'n', long, default_value_t = 100)]
        lines: usize,
    },
    /// Open an interactive shell in the VM (not in a container)
    Shell,
    /// Run a command in the VM: `berth vm -- uname -a`. The exit code is passed through;
    /// the current directory is kept when it is inside a shared folder
    #[command(trailing_var_arg = true)]
    Vm {
        /// Allocate a terminal (for interactive programs)
        #[arg(short, long)]
        tty: bool,
        /// The command and its arguments
        #[arg(required = true, allow_hyphen_values = true, num_args = 1..)]
        command: Vec<String>,
    },
    /// Make the docker CLI use Berth: creates and selects the docker context `berth`
    Context {
        /// Only print the DOCKER_HOST=... line to use instead
        #[arg(long)]
        print: bool,
    },
    /// Show or change the settings (cpus, memory_mib, disk_size_gib, shares, bind_address,
    /// insecure_registries, registry_mirrors, vm_image)
    Config {
        #[command(subcommand)]
        action: Option<ConfigAction>,
        /// Print all settings as JSON
        #[arg(long)]
        json: bool,
    },
    /// Delete the VM's data disk: every image, container and volume is lost
    #[command(
        long_about = "Delete the VM's data disk: every image, container and volume is lost.\n\n\
                      Volumes can be saved first: --export-volumes DIR writes each volume \
                      as DIR/<name>.tar (the VM is started for it if needed). Asked \
                      interactively when the VM runs and holds volumes."
    )]
    Reset {
        /// Do not ask for confirmation
        #[arg(short, long)]
        yes: bool,
        /// Save every volume as DIR/<name>.tar before deleting the disk
        #[arg(long, value_name = "DIR")]
        export_volumes: Option<std::path::PathBuf>,
    },
    /// Show the versions of the CLI, the daemon, the agent and the guest kernel
    Version {
        #[arg(long)]
        json: bool,
    },
    /// Check this machine: QEMU, KVM or TCG, vsock, virtiofsd, the Docker socket, disk space
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script: `berth completions bash > /etc/bash_completion.d/berth`
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Run the daemon in the foreground (`berth start` runs it in the background)
    Daemon,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogSource {
    /// The VM's serial console: kernel and agent
    Console,
    /// The agent's lines of the console
    Agent,
    /// The host daemon's log
    Daemon,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print one setting
    Get { key: String },
    /// Change one setting (shares: comma-separated absolute paths)
    Set { key: String, value: String },
}
