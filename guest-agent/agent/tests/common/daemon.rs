//! A `berth-agent serve` of the test's own (private root and socket, the berth/hello image
//! loaded) and the real docker CLI pointed at it. Dropping it stops the server and removes
//! every container it left, pass or fail.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Daemon {
    pub agent: super::Agent,
    pub socket: PathBuf,
    /// DOCKER_CONFIG: the CLI's config, empty and private.
    pub config: PathBuf,
    /// Environment of the server process (e.g. BERTH_ENGINE_CONFIG).
    env: Vec<(String, String)>,
    child: Option<Child>,
}

impl Daemon {
    pub fn start() -> Daemon {
        Daemon::start_with_env(&[])
    }

    /// A server with these environment variables set.
    pub fn start_with_env(env: &[(&str, &str)]) -> Daemon {
        let agent = super::Agent::new();
        let dir = agent.root.parent().unwrap().to_path_buf();
        let socket = dir.join("d.sock");
        let config = dir.join("docker-config");
        std::fs::create_dir_all(&config).unwrap();
        let mut daemon = Daemon {
            agent,
            socket,
            config,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            child: None,
        };
        daemon.spawn();
        daemon
    }

    /// Starts the server (again, after [`Daemon::kill`]) and waits for `/_ping`.
    pub fn spawn(&mut self) {
        let log = std::fs::File::create(self.socket.with_extension("log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_berth-agent"))
            .arg("--root")
            .arg(&self.agent.root)
            .arg("--runtime-root")
            .arg(&self.agent.runtime_root)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .arg("serve")
            .arg("-H")
            .arg(&self.socket)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self
            .docker(&["version", "--format", "{{.Server.APIVersion}}"])
            .status
            .success()
        {
            assert!(
                Instant::now() < deadline,
                "the API server did not come up: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILLs the server (containers keep running under their monitors).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's own output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.socket.with_extension("log")).unwrap_or_default()
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// The docker CLI with this server as its host, and no config of the user's.
    pub fn command(&self) -> Command {
        let mut command = Command::new("docker");
        command
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", &self.config)
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_API_VERSION")
            .stdin(Stdio::null());
        command
    }

    pub fn docker(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    pub fn docker_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs docker, asserts it succeeded, returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?} failed: {out:?}\nserver log:\n{}",
            self.log()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs docker, asserts it failed with `message` on stderr.
    pub fn fails(&self, args: &[&str], message: &str) -> Output {
        let out = self.docker(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(message),
            "docker {args:?}: expected failure with {message:?}, got {out:?}"
        );
        out
    }

    /// A raw HTTP request on the socket (for what the CLI never sends): the status line and
    /// the body.
    pub fn http(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        http(&self.socket, method, path, body)
    }
}

/// One HTTP/1.1 request with `Connection: close`; returns the status and the body.
pub fn http(socket: &Path, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    use std::io::Read;
    let mut stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
        // `Agent`'s own drop then removes every container through the CLI.
    }
}
