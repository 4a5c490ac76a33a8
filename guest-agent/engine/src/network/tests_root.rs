//! Root tests of container networking: real bridges, veths, namespaces and iptables rules
//! on this machine. Every engine here has a temporary root; its bridges are named after
//! random network IDs, and [`Net`]'s drop removes them and their rules, pass or fail.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::container::config::{ContainerConfig, PortBinding};
use crate::engine::{Engine, EngineOptions};
use crate::image::layers::test_images::{hello, store};
use crate::monitor::Launch;

/// One test at a time: monitors forked in-process inherit every descriptor open at that
/// moment (another test's reserved ports among them).
static SERIAL: Mutex<()> = Mutex::new(());

pub(super) struct Net {
    pub(super) dir: tempfile::TempDir,
    engine: Option<Engine>,
    _serial: MutexGuard<'static, ()>,
}

impl Net {
    pub(super) fn new() -> Net {
        assert!(nix::unistd::geteuid().is_root(), "needs root");
        let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        let dir = tempfile::Builder::new()
            .prefix("bn")
            .tempdir_in("/tmp")
            .unwrap();
        let images = store(dir.path());
        hello(dir.path(), &images);
        let mut net = Net {
            dir,
            engine: None,
            _serial: serial,
        };
        net.reopen();
        net
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn reopen(&mut self) {
        self.engine = None;
        self.engine = Some(
            Engine::open(EngineOptions {
                root: self.root(),
                runtime_root: self.dir.path().join("runtime"),
                monitor_launch: Launch::InProcess,
                supervise: None,
            })
            .unwrap(),
        );
    }

    pub(super) fn engine(&self) -> &Engine {
        self.engine.as_ref().unwrap()
    }

    fn bridge(&self) -> String {
        let view = self.engine().network_inspect("bridge").unwrap();
        view.record.bridge
    }

    pub(super) fn run(&self, config: ContainerConfig) -> String {
        let record = self.engine().create(None, config).unwrap();
        self.engine().start(&record.id).unwrap();
        record.id
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if let Some(engine) = &self.engine {
            for (record, _) in engine.list(true) {
                let _ = engine.remove(&record.id, true, true);
            }
            engine.network_remove_host_state();
        }
    }
}

fn web(port: Option<u16>) -> ContainerConfig {
    let mut config = ContainerConfig {
        image: "berth/hello".into(),
        ..Default::default()
    };
    if let Some(port) = port {
        config.port_bindings.insert(
            "80/tcp".into(),
            vec![PortBinding {
                host_ip: String::new(),
                host_port: port.to_string(),
            }],
        );
    }
    config
}

/// Resolves `webby` through the network's resolver and fetches its page.
const CLIENT: &str =
    "ip=$(nslookup webby | sed -n 's/^Address: *\\([0-9.]*\\)$/\\1/p' | tail -1); \
     [ -n \"$ip\" ] && printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $ip 80 | grep -q '200 OK'";

pub(super) fn iptables_save() -> String {
    let out = Command::new("iptables-save").output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn links() -> Vec<String> {
    std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
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

fn wait_gone(what: &str, mut gone: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !gone() {
        assert!(Instant::now() < deadline, "{what} is still there");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn count_ours(saved: &str, id12: &str) -> usize {
    saved.lines().filter(|l| l.contains(id12)).count()
}

#[test]
fn root_published_port_reaches_the_container_and_rm_leaves_nothing() {
    let net = Net::new();
    let port = 18481;
    let id = net.run(web(Some(port)));
    let info = net.engine().container_network(&id).expect("attached");
    let ep = &info.networks["bridge"];
    assert!(ep
        .ip
        .starts_with(&ep.gateway[..ep.gateway.rfind('.').unwrap()]));
    assert_eq!(info.ports[0].host_ip, "127.0.0.1");
    assert_eq!(info.ports[0].host_port, port);
    let veths_before: Vec<String> = links()
        .into_iter()
        .filter(|l| l.starts_with("veth"))
        .collect();
    assert!(links().contains(&net.bridge()));

    let page = http_get(&format!("127.0.0.1:{port}"));
    assert!(page.contains("200 OK"), "{page}");
    let direct = http_get(&format!("{}:80", ep.ip));
    assert!(direct.contains("200 OK"), "{direct}");

    // The same port again: a clear error, before anything starts.
    let second = net.engine().create(None, web(Some(port))).unwrap();
    let err = net.engine().start(&second.id).unwrap_err();
    let text = crate::container::lifecycle::chain(&err);
    assert!(
        text.contains(&format!(
            "Bind for 127.0.0.1:{port} failed: port is already allocated"
        )),
        "{text}"
    );
    assert!(!net
        .root()
        .join("containers")
        .join(&second.id)
        .join(super::STATE_FILE)
        .exists());

    let view = net.engine().network_inspect("bridge").unwrap();
    let id12 = &view.record.id[..12];
    assert!(iptables_save().contains(&format!("--dport {port} -j DNAT")));
    net.engine().remove(&id, true, false).unwrap();
    assert!(!iptables_save().contains(&format!("--dport {port} -j DNAT")));
    assert!(net.engine().container_network(&id).is_none());
    wait_gone("the container's veth", || {
        !links()
            .iter()
            .any(|l| l.starts_with("veth") && !veths_before.contains(l))
            || links().iter().filter(|l| l.starts_with("veth")).count() < veths_before.len()
    });
    let leases = std::fs::read_to_string(net.root().join("networks/ipam.json")).unwrap();
    assert!(!leases.contains(&id), "{leases}");
    assert!(count_ours(&iptables_save(), id12) > 0);
}

#[test]
fn root_cycles_and_restarts_leave_no_veth_rule_or_lease() {
    let mut net = Net::new();
    let first = net.run(web(Some(18482)));
    let view = net.engine().network_inspect("bridge").unwrap();
    let id12 = view.record.id[..12].to_string();
    let rules = count_ours(&iptables_save(), &id12);
    let ip = net.engine().container_network(&first).unwrap().networks["bridge"]
        .ip
        .clone();

    // An engine restart: same rules, same lease, the container keeps its address.
    net.reopen();
    net.reopen();
    assert_eq!(count_ours(&iptables_save(), &id12), rules);
    let after = net.engine().container_network(&first).unwrap();
    assert_eq!(after.networks["bridge"].ip, ip);
    let second = net.run(web(None));
    let other = net.engine().container_network(&second).unwrap().networks["bridge"]
        .ip
        .clone();
    assert_ne!(
        other, ip,
        "an address leased before the restart was handed out again"
    );
    net.engine().remove(&second, true, false).unwrap();
    net.engine().remove(&first, true, false).unwrap();
    let empty_rules = count_ours(&iptables_save(), &id12);

    let netns_dir = net.dir.path().join("netns");
    let veths = || {
        links()
            .into_iter()
            .filter(|l| l.starts_with("veth"))
            .count()
    };
    let before = veths();
    let started = Instant::now();
    for i in 0..20 {
        let id = net.run(web(Some(18500 + i)));
        net.engine().remove(&id, true, false).unwrap();
    }
    eprintln!(
        "20 start/rm cycles with a published port: {:?}",
        started.elapsed()
    );
    assert_eq!(count_ours(&iptables_save(), &id12), empty_rules);
    wait_gone("veths of removed containers", || veths() <= before);
    let leases = std::fs::read_to_string(net.root().join("networks/ipam.json")).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&leases).unwrap();
    assert!(
        parsed
            .as_object()
            .unwrap()
            .values()
            .all(|l| l["leased"].as_object().is_none_or(|m| m.is_empty())),
        "{leases}"
    );
    assert_eq!(
        std::fs::read_dir(&netns_dir)
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
}

#[test]
fn root_user_network_resolves_names_and_connects_live() {
    let net = Net::new();
    let created = net
        .engine()
        .network_create(super::NetworkCreate {
            name: "bn-test".into(),
            ..Default::default()
        })
        .unwrap();
    assert!(Path::new("/sys/class/net").join(&created.bridge).exists());
    let mut server = web(None);
    server.network_mode = "bn-test".into();
    let server_id = {
        let record = net.engine().create(Some("webby"), server).unwrap();
        net.engine().start(&record.id).unwrap();
        record.id
    };
    let client = |mode: &str| {
        let mut config = web(None);
        config.network_mode = mode.into();
        config.cmd = Some(vec![
            "sh".into(),
            "-c".into(),
            // busybox-static's wget crashes in static glibc's NSS (even for an address);
            // its nslookup has a resolver of its own, nc takes an address.
            CLIENT.into(),
        ]);
        let id = net.run(config);
        net.engine().wait(&id).unwrap()
    };
    assert_eq!(client("bn-test"), 0, "by name on the user network");
    assert_ne!(
        client("bridge"),
        0,
        "the default bridge has no name resolution"
    );

    let err = net.engine().network_remove("bn-test").unwrap_err();
    assert!(err.to_string().contains("has active endpoints"), "{err}");
    assert!(net
        .engine()
        .network_remove("bridge")
        .unwrap_err()
        .is_forbidden());

    // Live: a second network, connected and disconnected while the server runs.
    net.engine()
        .network_create(super::NetworkCreate {
            name: "bn-test2".into(),
            ..Default::default()
        })
        .unwrap();
    net.engine()
        .network_connect("bn-test2", &server_id, Default::default())
        .unwrap();
    assert_eq!(client("bn-test2"), 0, "reached after a live connect");
    net.engine()
        .network_disconnect("bn-test2", &server_id, false)
        .unwrap();
    assert_ne!(client("bn-test2"), 0, "still reached after disconnect");
    net.engine().remove(&server_id, true, false).unwrap();
    for (record, _) in net.engine().list(true) {
        net.engine().remove(&record.id, true, false).unwrap();
    }
    let pruned = net.engine().network_prune(|_| false);
    assert_eq!(pruned.len(), 2, "{pruned:?}");
    wait_gone("the user bridge", || {
        !Path::new("/sys/class/net").join(&created.bridge).exists()
    });
}

#[test]
fn root_none_and_host_modes() {
    let net = Net::new();
    let run = |mode: &str| {
        let mut config = web(None);
        config.network_mode = mode.into();
        config.cmd = Some(vec!["sh".into(), "-c".into(), "ls /sys/class/net".into()]);
        let id = net.run(config);
        net.engine().wait(&id).unwrap();
        let mut out = String::new();
        net.engine()
            .logs(&id, &Default::default(), |e| {
                out.push_str(&e.log);
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
        (id, out)
    };
    let (id, none) = run("none");
    assert_eq!(none.split_whitespace().collect::<Vec<_>>(), ["lo"]);
    assert!(net.engine().container_network(&id).is_none());
    let (_, host) = run("host");
    assert!(
        host.contains("eth0") || host.split_whitespace().count() > 1,
        "{host}"
    );
}
