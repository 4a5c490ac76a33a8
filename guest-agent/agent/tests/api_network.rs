//! Container networking through the real docker CLI: published ports, user-defined
//! networks with name resolution, live connect/disconnect, `--network none|host`,
//! outbound NAT, and the `/networks` endpoints. Needs root; ports 186xx.
//!
//! Each test's [`HostCleanup`] removes the bridges and rules of its engine root after the
//! daemon and its containers are gone.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use berth_engine::engine::{Engine, EngineOptions};
use common::daemon::Daemon;

/// busybox-static's wget crashes in static glibc's NSS (even for a literal address), so
/// clients resolve with nslookup (its own resolver) and fetch with nc.
fn client(name: &str) -> String {
    format!(
        "ip=$(nslookup {name} | sed -n 's/^Address: *\\([0-9.]*\\)$/\\1/p' | tail -1); \
         [ -n \"$ip\" ] && printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $ip 80 | grep -q '200 OK'"
    )
}

/// Removes what the engine of `root` left on the host, once dropped after the daemon.
struct HostCleanup {
    root: PathBuf,
    runtime_root: PathBuf,
}

impl Drop for HostCleanup {
    fn drop(&mut self) {
        if let Ok(engine) = Engine::open(EngineOptions {
            root: self.root.clone(),
            runtime_root: self.runtime_root.clone(),
            supervise: None,
            ..Default::default()
        }) {
            for (record, _) in engine.list(true) {
                let _ = engine.remove(&record.id, true, true);
            }
            engine.network_remove_host_state();
        }
    }
}

/// The daemon, and the cleanup that runs after it (fields drop in order).
struct Setup {
    daemon: Daemon,
    _cleanup: HostCleanup,
}

fn setup() -> Setup {
    let daemon = Daemon::start();
    let cleanup = HostCleanup {
        root: daemon.agent.root.clone(),
        runtime_root: daemon.agent.runtime_root.clone(),
    };
    Setup {
        daemon,
        _cleanup: cleanup,
    }
}

fn http_get(addr: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut s = TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(1))?;
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
            let mut body = String::new();
            s.read_to_string(&mut body)?;
            Ok(body)
        })();
        match attempt {
            Ok(body) if !body.is_empty() => return body,
            _ if Instant::now() > deadline => panic!("no answer from {addr}: {attempt:?}"),
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

#[test]
fn published_ports_reach_the_container_and_a_taken_port_is_refused() {
    let s = setup();
    let d = &s.daemon;
    let id = d.ok(&["run", "-d", "-p", "127.0.0.1:18680:80", "berth/hello"]);
    let id = id.trim();
    let page = http_get("127.0.0.1:18680");
    assert!(page.contains("200 OK"), "{page}");

    // Default bind address: 127.0.0.1.
    let id2 = d.ok(&["run", "-d", "-p", "18682:80", "berth/hello"]);
    assert!(http_get("127.0.0.1:18682").contains("200 OK"));
    d.ok(&["rm", "-f", id2.trim()]);

    let _holder = TcpListener::bind("127.0.0.1:18681").unwrap();
    d.fails(
        &["run", "-d", "-p", "127.0.0.1:18681:80", "berth/hello"],
        "Bind for 127.0.0.1:18681 failed: port is already allocated",
    );
    let running = d.ok(&["ps", "-q", "--no-trunc"]);
    assert_eq!(running.lines().collect::<Vec<_>>(), [id], "{running}");
    // In the foreground with --rm: the error, and no container left (nor a hang).
    let all_before = d.ok(&["ps", "-aq"]);
    d.fails(
        &[
            "run",
            "--rm",
            "-p",
            "127.0.0.1:18681:80",
            "berth/hello",
            "true",
        ],
        "port is already allocated",
    );
    assert_eq!(d.ok(&["ps", "-aq"]), all_before);

    // A port spec the CLI lets through but the engine refuses.
    let (status, body) = d.http(
        "POST",
        "/containers/create",
        br#"{"Image":"berth/hello","HostConfig":{"PortBindings":{"80/foo":[{"HostPort":"1"}]}}}"#,
    );
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("80/foo"), "{body}");
    d.ok(&["rm", "-f", id]);
    // The port is free again.
    TcpListener::bind("127.0.0.1:18680").unwrap();
}

#[test]
fn user_networks_resolve_names_and_aliases_and_connect_live() {
    let s = setup();
    let d = &s.daemon;
    d.ok(&["network", "create", "bnt-app"]);
    d.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "bnt-app",
        "--network-alias",
        "www",
        "berth/hello",
    ]);
    for name in ["web", "www"] {
        d.ok(&[
            "run",
            "--rm",
            "--network",
            "bnt-app",
            "berth/hello",
            "sh",
            "-c",
            &client(name),
        ]);
    }
    d.fails(&["network", "rm", "bnt-app"], "has active endpoints");
    d.fails(&["network", "rm", "bridge"], "pre-defined network");

    let inspect = d.ok(&["network", "inspect", "bnt-app", "--format", "{{json .}}"]);
    assert!(inspect.contains("\"Subnet\""), "{inspect}");
    assert!(inspect.contains("\"Name\":\"web\""), "{inspect}");

    // web2 starts on the default bridge, then joins bnt-app live, then leaves it.
    d.ok(&["run", "-d", "--name", "web2", "berth/hello"]);
    let on_app = |name: &str| {
        d.docker(&[
            "run",
            "--rm",
            "--network",
            "bnt-app",
            "berth/hello",
            "sh",
            "-c",
            &client(name),
        ])
        .status
        .success()
    };
    assert!(!on_app("web2"));
    d.ok(&["network", "connect", "bnt-app", "web2"]);
    assert!(on_app("web2"), "not reachable after connect: {}", d.log());
    d.ok(&["network", "disconnect", "bnt-app", "web2"]);
    assert!(!on_app("web2"));

    let ls = d.ok(&["network", "ls", "--format", "{{.Name}}"]);
    for name in ["bridge", "host", "none", "bnt-app"] {
        assert!(ls.lines().any(|l| l == name), "{ls}");
    }
    d.ok(&["rm", "-f", "web", "web2"]);
    let pruned = d.ok(&["network", "prune", "-f"]);
    assert!(pruned.contains("bnt-app"), "{pruned}");
}

/// The host's address on its default route (not loopback).
fn host_address() -> Ipv4Addr {
    let probe = UdpSocket::bind("0.0.0.0:0").unwrap();
    probe
        .connect("192.0.2.1:9")
        .unwrap_or_else(|_| probe.connect("8.8.8.8:53").unwrap());
    match probe.local_addr().unwrap().ip() {
        std::net::IpAddr::V4(ip) => ip,
        other => panic!("no IPv4 host address: {other}"),
    }
}

#[test]
fn none_host_and_outbound_nat() {
    let s = setup();
    let d = &s.daemon;
    let none = d.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "berth/hello",
        "ls",
        "/sys/class/net",
    ]);
    assert_eq!(none.split_whitespace().collect::<Vec<_>>(), ["lo"]);
    let host = d.ok(&[
        "run",
        "--rm",
        "--network",
        "host",
        "berth/hello",
        "ls",
        "/sys/class/net",
    ]);
    let ours: Vec<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        host.split_whitespace()
            .any(|i| i != "lo" && ours.iter().any(|o| o == i)),
        "{host}"
    );

    let ip = host_address();
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let server = std::thread::spawn(move || {
        // Bounded: a container that never connects fails the test instead of hanging it.
        let deadline = Instant::now() + Duration::from_secs(20);
        let (mut conn, peer) = loop {
            match listener.accept() {
                Ok(got) => break got,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Err(e) => panic!("the container never connected: {e}"),
            }
        };
        conn.set_nonblocking(false).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut got = String::new();
        conn.read_to_string(&mut got).unwrap();
        (got, peer)
    });
    d.ok(&[
        "run",
        "--rm",
        "berth/hello",
        "sh",
        "-c",
        &format!("echo hello-from-the-container | nc -w 3 {ip} {port}"),
    ]);
    let (got, _peer) = server
        .join()
        .unwrap_or_else(|_| panic!("server log:\n{}", d.log()));
    assert_eq!(got.trim(), "hello-from-the-container");
}
