//! Root test: a published UDP port reaches the container from 127.0.0.1, the way the VM's
//! agent relays a host's UDP flow (it sends from a socket of its own to 127.0.0.1:<port>).
//! The container runs the static echo server of `tests/fixtures/echo.c`, bind-mounted in
//! (berth/hello's busybox has no UDP server).

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::tests_root::{iptables_save, Net};
use crate::container::config::{ContainerConfig, MountConfig, PortBinding, Propagation};

/// Builds the echo fixture (static, so it needs nothing from the image) into `dir`.
fn echo_binary(dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/echo.c");
    let binary = dir.join("echo");
    let out = Command::new("cc")
        .args(["-static", "-O2", "-pthread", "-o"])
        .arg(&binary)
        .arg(&source)
        .output()
        .expect("a C compiler (cc)");
    assert!(
        out.status.success(),
        "cc {}: {}",
        source.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    binary
}

/// Sends `payload` from a fresh socket (a new flow) until it comes back.
fn udp_echo(port: u16, payload: &[u8]) -> Vec<u8> {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    socket.connect(("127.0.0.1", port)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = vec![0u8; 65_536];
    loop {
        // Refused (ICMP) or lost while the server starts: try again.
        let _ = socket.send(payload);
        if let Ok(n) = socket.recv(&mut buf) {
            return buf[..n].to_vec();
        }
        assert!(
            Instant::now() < deadline,
            "no UDP answer on 127.0.0.1:{port}"
        );
    }
}

#[test]
fn root_published_udp_port_answers_on_loopback() {
    let net = Net::new();
    let port = 18484;
    let echo = echo_binary(net.dir.path());
    let mut config = ContainerConfig {
        image: "berth/hello".into(),
        cmd: Some(vec!["/echo".into(), "udp".into(), "53".into()]),
        ..Default::default()
    };
    config.mounts.push(MountConfig::Bind {
        source: echo,
        target: "/echo".into(),
        readonly: true,
        propagation: Propagation::default(),
    });
    config.port_bindings.insert(
        "53/udp".into(),
        vec![PortBinding {
            host_ip: String::new(),
            host_port: port.to_string(),
        }],
    );
    let id = net.run(config);
    assert!(iptables_save().contains(&format!("-p udp -m udp --dport {port} -j DNAT")));
    assert_eq!(udp_echo(port, b"first flow"), b"first flow");
    // A second client address is a flow of its own, answered too.
    assert_eq!(udp_echo(port, b"second flow"), b"second flow");
    // The largest IPv4 UDP payload: fragmented onto the bridge (MTU 1500) and back whole.
    let largest = vec![0x5a; 65_507];
    assert_eq!(udp_echo(port, &largest), largest);
    net.engine().remove(&id, true, false).unwrap();
    assert!(!iptables_save().contains(&format!("--dport {port} -j DNAT")));
}
