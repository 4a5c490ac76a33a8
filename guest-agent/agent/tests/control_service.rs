//! The control service (`berth-agent control --unix`) natively: hello, health, exec with
//! pipes and a PTY, malformed requests, and, beside a real engine, port events and
//! forwarding to a published port. Needs root for the engine part (as every api_ test).

mod common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use berth_protocol::frame::{self, Kind};
use berth_protocol::{
    ExecRequest, ExitStatus, PortAction, PortEvent, Proto, Request, Response, TtySize,
};
use common::daemon::Daemon;

/// A `berth-agent control --unix` of the test's own; killed on drop.
struct Control {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    child: Child,
}

impl Control {
    fn start(docker_socket: &Path) -> Control {
        let dir = tempfile::Builder::new()
            .prefix("bc")
            .tempdir_in("/tmp")
            .unwrap();
        let socket = dir.path().join("control.sock");
        let child = Command::new(env!("CARGO_BIN_EXE_berth-agent"))
            .args(["control", "--unix"])
            .arg(&socket)
            .arg("--docker-socket")
            .arg(docker_socket)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while UnixStream::connect(&socket).is_err() {
            assert!(
                Instant::now() < deadline,
                "the control service did not come up"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Control {
            _dir: dir,
            socket,
            child,
        }
    }

    fn without_engine() -> Control {
        Control::start(Path::new("/nonexistent/docker.sock"))
    }

    /// Sends a request line; returns the stream and the response line.
    fn open(&self, request: &Request) -> (UnixStream, Response) {
        self.open_raw(&berth_protocol::to_line(request))
    }

    fn open_raw(&self, line: &[u8]) -> (UnixStream, Response) {
        let mut stream = UnixStream::connect(&self.socket).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream.write_all(line).unwrap();
        let response = berth_protocol::read_line_blocking(&mut stream).unwrap();
        (stream, response)
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The result of an exec: stdout, stderr, exit.
#[derive(Debug, Default)]
struct Ran {
    stdout: String,
    stderr: String,
    exit: Option<ExitStatus>,
}

fn exec_request(command: &[&str], tty: Option<TtySize>) -> Request {
    Request::Exec(ExecRequest {
        command: command.iter().map(|s| s.to_string()).collect(),
        env: vec![],
        cwd: None,
        tty,
    })
}

/// Reads frames until Exit.
fn collect(stream: &mut UnixStream) -> Ran {
    let mut ran = Ran::default();
    while let Some((kind, payload)) = frame::read(stream).unwrap() {
        let text = String::from_utf8_lossy(&payload).into_owned();
        match kind {
            Kind::Stdout => ran.stdout.push_str(&text),
            Kind::Stderr => ran.stderr.push_str(&text),
            Kind::Exit => {
                ran.exit = Some(serde_json::from_slice(&payload).unwrap());
                break;
            }
            other => panic!("unexpected frame {other:?}"),
        }
    }
    ran
}

fn exec(control: &Control, command: &[&str]) -> Ran {
    let (mut stream, response) = control.open(&exec_request(command, None));
    assert_eq!(response, Response::Ok);
    collect(&mut stream)
}

#[test]
fn hello_and_health() {
    let control = Control::without_engine();
    let (_, response) = control.open(&Request::Hello {
        host_version: "test".into(),
        protocol: berth_protocol::PROTOCOL_VERSION,
    });
    let Response::Hello(hello) = response else {
        panic!("{response:?}")
    };
    assert_eq!(hello.protocol, berth_protocol::PROTOCOL_VERSION);
    assert_eq!(hello.agent_version, env!("CARGO_PKG_VERSION"));
    let uname = Command::new("uname").arg("-srm").output().unwrap();
    assert_eq!(hello.kernel, String::from_utf8_lossy(&uname.stdout).trim());
    assert!(hello.uptime_ms > 0);
    for cap in ["exec", "port-events", "forward-tcp", "forward-udp", "echo"] {
        assert!(hello.capabilities.iter().any(|c| c == cap), "{hello:?}");
    }
    // Natively the clock and the machine are not the agent's.
    assert!(!hello.capabilities.iter().any(|c| c == "shutdown"));

    let (_, response) = control.open(&Request::Health);
    let Response::Health(health) = response else {
        panic!("{response:?}")
    };
    assert_eq!(health.engine, berth_protocol::EngineState::Starting);
    assert!(health.agent_rss_kib > 0 && health.memory_total_kib > health.memory_available_kib);
    assert!(health.data_disk.is_none());
    for request in [
        Request::TimeSync { unix_nanos: 0 },
        Request::Shutdown {
            stop_timeout_secs: 1,
        },
    ] {
        let (_, response) = control.open(&request);
        assert!(matches!(response, Response::Error { .. }), "{response:?}");
    }
}

#[test]
fn malformed_requests_get_an_error() {
    let control = Control::without_engine();
    for line in [
        &b"{\"type\":\"launch-missiles\"}\n"[..],
        b"not json\n",
        b"\n",
    ] {
        let (mut stream, response) = control.open_raw(line);
        let Response::Error { message } = response else {
            panic!("{response:?}")
        };
        assert!(message.contains("malformed request"), "{message}");
        // Then the connection closes.
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
    }
}

#[test]
fn exec_output_and_exit_codes() {
    let control = Control::without_engine();
    let ran = exec(&control, &["uname", "-a"]);
    let expected = Command::new("uname").arg("-a").output().unwrap();
    assert_eq!(ran.stdout, String::from_utf8_lossy(&expected.stdout));
    assert_eq!(
        ran.exit,
        Some(ExitStatus {
            code: 0,
            signal: None
        })
    );

    let ran = exec(&control, &["sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(
        (ran.stdout.as_str(), ran.stderr.as_str()),
        ("out\n", "err\n")
    );
    assert_eq!(
        ran.exit,
        Some(ExitStatus {
            code: 3,
            signal: None
        })
    );

    let ran = exec(&control, &["sh", "-c", "kill -9 $$"]);
    assert_eq!(
        ran.exit,
        Some(ExitStatus {
            code: 137,
            signal: Some(9)
        })
    );

    let (_, response) = control.open(&exec_request(&["/no/such/program"], None));
    assert!(matches!(response, Response::Error { .. }), "{response:?}");
}

#[test]
fn exec_stdin_and_signals() {
    let control = Control::without_engine();
    let (mut stream, response) = control.open(&exec_request(&["cat"], None));
    assert_eq!(response, Response::Ok);
    frame::write(&mut stream, Kind::Stdin, b"hello through stdin\n").unwrap();
    frame::write(&mut stream, Kind::StdinClosed, b"").unwrap();
    let ran = collect(&mut stream);
    assert_eq!(ran.stdout, "hello through stdin\n");
    assert_eq!(ran.exit.unwrap().code, 0);

    // A command that never reads stdin ends although the host never closes it.
    let (mut stream, _) = control.open(&exec_request(&["echo", "alone"], None));
    assert_eq!(collect(&mut stream).stdout, "alone\n");

    let (mut stream, _) = control.open(&exec_request(&["sleep", "30"], None));
    frame::write(&mut stream, Kind::Signal, &15i32.to_be_bytes()).unwrap();
    let ran = collect(&mut stream);
    assert_eq!(
        ran.exit,
        Some(ExitStatus {
            code: 143,
            signal: Some(15)
        })
    );
}

#[test]
fn exec_with_a_pty_sees_a_terminal_and_its_size() {
    let control = Control::without_engine();
    let size = TtySize { rows: 24, cols: 80 };
    let script = "tty; stty size; read line; stty size; exit 5";
    let (mut stream, response) = control.open(&exec_request(&["sh", "-c", script], Some(size)));
    assert_eq!(response, Response::Ok);
    // Wait for the first size before resizing, so the order is certain.
    let mut seen = String::new();
    while !seen.contains("24 80") {
        let (kind, payload) = frame::read(&mut stream).unwrap().expect("output");
        assert_eq!(kind, Kind::Stdout, "a PTY has no separate stderr");
        seen.push_str(&String::from_utf8_lossy(&payload));
    }
    let resize = serde_json::to_vec(&TtySize {
        rows: 50,
        cols: 132,
    })
    .unwrap();
    frame::write(&mut stream, Kind::Resize, &resize).unwrap();
    frame::write(&mut stream, Kind::Stdin, b"go\n").unwrap();
    let ran = collect(&mut stream);
    let all = seen + &ran.stdout;
    assert!(all.contains("/dev/pts/"), "{all:?}");
    assert!(all.contains("50 132"), "{all:?}");
    assert_eq!(ran.exit.unwrap().code, 5);
}

fn next_event(stream: &mut UnixStream) -> PortEvent {
    berth_protocol::read_line_blocking(stream).unwrap()
}

#[test]
fn root_port_events_and_forward() {
    let daemon = Daemon::start();
    let control = Control::start(&daemon.socket);
    let (_, response) = control.open(&Request::Health);
    assert!(
        matches!(&response, Response::Health(h) if matches!(h.engine, berth_protocol::EngineState::Running { .. })),
        "{response:?}"
    );
    // One container before the stream starts (the snapshot), one after (live events).
    let before = daemon.ok(&["run", "-d", "-p", "127.0.0.1::80", "berth/hello"]);
    let before = before.trim().to_string();
    let (mut events, response) = control.open(&Request::PortEvents);
    assert_eq!(response, Response::Ok);
    let snap = next_event(&mut events);
    assert!(
        snap.snapshot && snap.action == PortAction::Added,
        "{snap:?}"
    );
    assert_eq!(
        (snap.container_id.as_str(), snap.proto),
        (before.as_str(), Proto::Tcp)
    );
    assert_eq!(snap.container_port, 80);

    let id = daemon.ok(&["run", "-d", "-p", "127.0.0.1::80", "berth/hello"]);
    let id = id.trim().to_string();
    let added = next_event(&mut events);
    assert_eq!(
        (added.action, added.snapshot),
        (PortAction::Added, false),
        "{added:?}"
    );
    assert_eq!(added.container_id, id);
    assert_eq!(added.host_ip, "127.0.0.1");
    let published = daemon.ok(&["port", &id, "80/tcp"]);
    assert!(
        published.trim().ends_with(&format!(":{}", added.host_port)),
        "{published}"
    );

    // Forward: the page, through the control service, with half-close.
    let page = forward_get(&control, added.host_port);
    assert!(page.contains("200 OK") && page.contains("Berth"), "{page}");

    daemon.ok(&["rm", "-f", &id]);
    let removed = next_event(&mut events);
    assert_eq!(removed.action, PortAction::Removed, "{removed:?}");
    assert_eq!(
        (removed.container_id, removed.host_port),
        (id, added.host_port)
    );
    daemon.ok(&["rm", "-f", &before]);
}

#[test]
fn echo_returns_every_byte_and_ends_after_the_host() {
    let control = Control::without_engine();
    let (mut stream, response) = control.open(&Request::Echo);
    assert_eq!(response, Response::Ok);
    // Ping-pong first: each echo must come back before the host sends more (an echo the
    // agent held until its next write would hang here).
    for ping in [&b"ping"[..], b"pong"] {
        stream
            .write_all(&(ping.len() as u32).to_be_bytes())
            .unwrap();
        stream.write_all(ping).unwrap();
        let mut back = [0u8; 8];
        stream.read_exact(&mut back).unwrap();
        assert_eq!(&back[4..], ping);
    }
    let sent: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        let sent = sent.clone();
        std::thread::spawn(move || {
            for chunk in sent.chunks(100_000) {
                stream
                    .write_all(&(chunk.len() as u32).to_be_bytes())
                    .unwrap();
                stream.write_all(chunk).unwrap();
            }
            stream.write_all(&0u32.to_be_bytes()).unwrap();
        })
    };
    assert_eq!(read_halfclose(&mut stream), sent);
    writer.join().unwrap();
}

/// A UDP flow through `forward`: a static echo server (tests/fixtures/echo.c) in a
/// container with a published UDP port; datagrams framed both ways, boundaries kept.
#[test]
fn root_forward_udp_carries_datagrams_both_ways() {
    let daemon = Daemon::start();
    let control = Control::start(&daemon.socket);
    let dir = tempfile::tempdir().unwrap();
    let echo = dir.path().join("echo");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/echo.c");
    let cc = Command::new("cc")
        .args(["-static", "-O2", "-pthread", "-o"])
        .arg(&echo)
        .arg(&source)
        .output()
        .expect("a C compiler (cc)");
    assert!(
        cc.status.success(),
        "{}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let bind = format!("{}:/echo:ro", echo.display());
    let id = daemon.ok(&[
        "run",
        "-d",
        "-v",
        &bind,
        "-p",
        "127.0.0.1::53/udp",
        "berth/hello",
        "/echo",
        "udp",
        "53",
    ]);
    let id = id.trim().to_string();
    let published = daemon.ok(&["port", &id, "53/udp"]);
    let port: u16 = published
        .trim()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();

    let (mut stream, response) = control.open(&Request::Forward {
        proto: Proto::Udp,
        port,
    });
    assert_eq!(response, Response::Ok);
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    // The server may still be starting (its first datagrams refused): send until one
    // comes back, then check that boundaries survive, an empty datagram included.
    loop {
        stream.write_all(&4u32.to_be_bytes()).unwrap();
        stream.write_all(b"ping").unwrap();
        if let Ok(got) = read_datagram(&mut stream) {
            assert_eq!(got, b"ping");
            break;
        }
        assert!(Instant::now() < deadline, "no UDP answer through forward");
    }
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    for datagram in [&b"one"[..], b"", &[7u8; 9000][..]] {
        stream
            .write_all(&(datagram.len() as u32).to_be_bytes())
            .unwrap();
        stream.write_all(datagram).unwrap();
        let mut got = read_datagram(&mut stream).unwrap();
        // Stragglers of the first loop's pings may arrive before the answer.
        while got == b"ping" {
            got = read_datagram(&mut stream).unwrap();
        }
        assert_eq!(got, datagram);
    }
    daemon.ok(&["rm", "-f", &id]);
}

/// One datagram frame (berth_protocol::datagram): a u32 length and the bytes.
fn read_datagram(stream: &mut UnixStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let mut payload = vec![0u8; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut payload)?;
    Ok(payload)
}

/// Half-close frames up to the end marker.
fn read_halfclose(stream: &mut UnixStream) -> Vec<u8> {
    let mut all = Vec::new();
    loop {
        let mut len = [0u8; 4];
        stream.read_exact(&mut len).unwrap();
        let len = u32::from_be_bytes(len) as usize;
        if len == 0 {
            return all;
        }
        let mut chunk = vec![0u8; len];
        stream.read_exact(&mut chunk).unwrap();
        all.extend_from_slice(&chunk);
    }
}

fn forward_get(control: &Control, port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (mut stream, response) = control.open(&Request::Forward {
            proto: Proto::Tcp,
            port,
        });
        if response == Response::Ok {
            // After the Ok line the bytes travel in half-close frames: the request, then
            // the end of this half; the page comes back framed up to its own end marker.
            let request = b"GET / HTTP/1.0\r\n\r\n";
            stream
                .write_all(&(request.len() as u32).to_be_bytes())
                .unwrap();
            stream.write_all(request).unwrap();
            stream.write_all(&0u32.to_be_bytes()).unwrap();
            let mut page = Vec::new();
            loop {
                let mut len = [0u8; 4];
                if stream.read_exact(&mut len).is_err() {
                    break;
                }
                let len = u32::from_be_bytes(len) as usize;
                if len == 0 {
                    break;
                }
                let mut chunk = vec![0u8; len];
                stream.read_exact(&mut chunk).unwrap();
                page.extend_from_slice(&chunk);
            }
            let page = String::from_utf8_lossy(&page).into_owned();
            if page.contains("200 OK") {
                return page;
            }
        }
        assert!(Instant::now() < deadline, "{response:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
