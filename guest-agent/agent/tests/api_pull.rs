//! `docker pull` (and login, and the pull of `docker run`) through Berth's API against
//! Debian's docker-registry on loopback. Needs root (the engine runs containers), the
//! docker CLI, docker-registry, skopeo and umoci.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::daemon::Daemon;
use common::registry::{host_arch, Registry, RegistryOptions, TokenFront};

fn anonymous() -> Registry {
    Registry::start(RegistryOptions {
        auth: None,
        tls: false,
    })
}

#[test]
fn root_pull_by_tag_and_digest_then_run() {
    let registry = anonymous();
    let digest = registry.seed_hello("berth/hello:1");
    let daemon = Daemon::start();
    let image = format!("{}/berth/hello:1", registry.addr);
    let out = daemon.ok(&["pull", &image]);
    assert!(out.contains("Pull complete"), "{out}");
    assert!(out.contains(&format!("Digest: {digest}")), "{out}");
    assert!(
        out.contains(&format!("Status: Downloaded newer image for {image}")),
        "{out}"
    );
    assert_eq!(
        daemon.ok(&["run", "--rm", &image, "echo", "hi"]).trim(),
        "hi"
    );
    let again = daemon.ok(&["pull", &image]);
    assert!(again.contains("Image is up to date"), "{again}");

    let by_digest = format!("{}/berth/hello@{digest}", registry.addr);
    daemon.ok(&["pull", &by_digest]);
    assert_eq!(
        daemon.ok(&["run", "--rm", &by_digest, "echo", "ok"]).trim(),
        "ok"
    );

    // The same content under another name: every layer is already there.
    registry.seed_hello("copy/hello:2");
    let copy = format!("{}/copy/hello:2", registry.addr);
    let out = daemon.ok(&["pull", &copy]);
    assert!(out.contains("Already exists"), "{out}");
    assert!(!out.contains("Pull complete"), "{out}");
}

#[test]
fn root_run_pulls_a_missing_image() {
    let registry = anonymous();
    registry.seed_hello("auto/hello:3");
    let daemon = Daemon::start();
    let image = format!("{}/auto/hello:3", registry.addr);
    let out = daemon.docker(&["run", "--rm", &image, "echo", "pulled"]);
    assert!(out.status.success(), "{out:?}\n{}", daemon.log());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "pulled");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Unable to find image"));
}

#[test]
fn root_pull_multiarch_picks_the_host_or_the_asked_platform() {
    let registry = anonymous();
    registry.seed_multiarch("multi/arch:1");
    let daemon = Daemon::start();
    let image = format!("{}/multi/arch:1", registry.addr);
    daemon.ok(&["pull", &image]);
    // Inspected, not run: the engine's unpacker refuses the "/" entry umoci puts in
    // these layers (a separate issue).
    let arch = daemon.ok(&["image", "inspect", "--format", "{{.Architecture}}", &image]);
    assert_eq!(arch.trim(), host_arch());
    let other = if host_arch() == "amd64" {
        "arm64"
    } else {
        "amd64"
    };
    daemon.ok(&["pull", "--platform", &format!("linux/{other}"), &image]);
    let inspected = daemon.ok(&["image", "inspect", "--format", "{{.Architecture}}", &image]);
    assert_eq!(inspected.trim(), other);
    daemon.fails(
        &["pull", "--platform", "linux/s390x", &image],
        "no matching manifest for linux/s390x",
    );
}

#[test]
fn root_pull_unknown_tag_or_repository() {
    let registry = anonymous();
    registry.seed_hello("berth/hello:1");
    let daemon = Daemon::start();
    daemon.fails(
        &["pull", &format!("{}/berth/hello:nope", registry.addr)],
        "manifest unknown",
    );
    daemon.fails(
        &["pull", &format!("{}/no/such:1", registry.addr)],
        "not found",
    );
    let images = daemon.ok(&["images", "--format", "{{.Repository}}"]);
    assert!(!images.contains(&registry.addr), "{images}");
}

#[test]
fn root_pull_registry_down_is_a_clear_error() {
    // A port nothing listens on: bounded retries, then an error naming the registry.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    drop(listener);
    let daemon = Daemon::start();
    let started = Instant::now();
    daemon.fails(
        &["pull", &format!("{addr}/x/y:1")],
        "Cannot reach the registry",
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn root_login_and_pull_with_credentials() {
    let registry = Registry::start(RegistryOptions {
        auth: Some(("berth".into(), "s3cret".into())),
        tls: false,
    });
    registry.seed_hello("private/hello:1");
    let daemon = Daemon::start();
    let image = format!("{}/private/hello:1", registry.addr);
    daemon.fails(&["pull", &image], "pull access denied");
    let wrong = daemon.docker_with_stdin(
        &["login", "-u", "berth", "--password-stdin", &registry.addr],
        b"wrong\n",
    );
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        !wrong.status.success() && stderr.contains("401 Unauthorized"),
        "{wrong:?}"
    );
    let right = daemon.docker_with_stdin(
        &["login", "-u", "berth", "--password-stdin", &registry.addr],
        b"s3cret\n",
    );
    assert!(right.status.success(), "{right:?}");
    assert!(String::from_utf8_lossy(&right.stdout).contains("Login Succeeded"));
    daemon.ok(&["pull", &image]);
    assert_eq!(
        daemon.ok(&["run", "--rm", &image, "echo", "in"]).trim(),
        "in"
    );
    daemon.ok(&["logout", &registry.addr]);
}

#[test]
fn root_pull_over_tls_from_a_loopback_registry() {
    let registry = Registry::start(RegistryOptions {
        auth: None,
        tls: true,
    });
    registry.seed_hello("tls/hello:1");
    let daemon = Daemon::start();
    let image = format!("{}/tls/hello:1", registry.addr);
    daemon.ok(&["pull", &image]);
    assert_eq!(
        daemon.ok(&["run", "--rm", &image, "echo", "tls"]).trim(),
        "tls"
    );
}

fn blobs(root: &Path) -> BTreeSet<String> {
    std::fs::read_dir(root.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Temporary blob files and partial downloads (`ingest/`).
fn temporaries(root: &Path) -> usize {
    ["blobs/.tmp", "ingest"]
        .iter()
        .map(|d| std::fs::read_dir(root.join(d)).map_or(0, |d| d.count()))
        .sum()
}

/// The partial downloads under the engine root: (file name, size).
fn partials(root: &Path) -> Vec<(String, u64)> {
    std::fs::read_dir(root.join("ingest")).map_or(Vec::new(), |d| {
        d.map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect()
    })
}

#[test]
fn root_pull_interrupted_by_the_client_leaves_nothing() {
    let registry = anonymous();
    registry.seed_layers("big/layers:1", 4, 48 << 20);
    let daemon = Daemon::start();
    let before = blobs(&daemon.agent.root);
    let image = format!("{}/big/layers:1", registry.addr);
    let mut child = daemon
        .command()
        .args(["pull", &image])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed as soon as the layers are announced: the transfers are under way.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("Pulling fs layer") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = blobs(&daemon.agent.root);
        if now == before && temporaries(&daemon.agent.root) == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "left behind: {:?}, {} temporaries",
            now.difference(&before).collect::<Vec<_>>(),
            temporaries(&daemon.agent.root)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let images = daemon.ok(&["images", "--format", "{{.Repository}}"]);
    assert!(!images.contains("big/layers"), "{images}");
    // And the pull works when asked again.
    let out = daemon.ok(&["pull", &image]);
    assert!(out.contains("Downloaded newer image"), "{out}");
}

/// A registry that answers with what no honest registry sends (tests/fixtures/
/// hostile-registry.py), killed on drop.
struct Hostile {
    child: std::process::Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Hostile {
    fn start() -> Hostile {
        let dir = tempfile::tempdir().unwrap();
        let port_file = dir.path().join("port");
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile-registry.py");
        let child = std::process::Command::new("python3")
            .arg(script)
            .arg(&port_file)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let port = loop {
            if let Ok(port) = std::fs::read_to_string(&port_file) {
                if !port.is_empty() {
                    break port;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the hostile registry did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Hostile {
            child,
            addr: format!("127.0.0.1:{port}"),
            _dir: dir,
        }
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn root_hostile_manifests_and_blobs_are_refused_and_leave_nothing() {
    let registry = Hostile::start();
    let daemon = Daemon::start();
    let root = daemon.agent.root.clone();
    let before = blobs(&root);
    let images_before = daemon.ok(&["images", "-q"]);
    let cases = [
        ("bad/json", "Malformed manifest"),
        ("bad/big", "over the 4 MiB limit"),
        (
            "bad/bigchunked",
            "more than 4194304 bytes, over the 4 MiB limit",
        ),
        ("bad/bigindex", "over the 4 MiB limit"),
        ("bad/bigchild", "over the 4 MiB limit"),
        ("bad/v1", "schema 1 manifest"),
        ("bad/layer", "Invalid digest"),
    ];
    for (repository, message) in cases {
        let name = format!("{}/{repository}", registry.addr);
        let out = daemon.docker(&["pull", &name]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            !out.status.success() && (stderr.contains(message) || stdout.contains(message)),
            "{repository}: expected a failure naming {message:?}: {out:?}"
        );
        eprintln!("{repository}: {}", stderr.trim());
        assert_eq!(
            daemon.ok(&["images", "-q"]),
            images_before,
            "{repository} left an image"
        );
        assert_eq!(blobs(&root), before, "{repository} left blobs");
        assert_eq!(temporaries(&root), 0, "{repository} left temporary files");
    }
}

/// `registry-mirrors` in the engine's config file: a Docker Hub name is pulled from the
/// mirror (here a loopback registry; no network beyond this machine is needed).
#[test]
fn root_docker_hub_names_come_from_the_configured_mirror() {
    let registry = anonymous();
    registry.seed_hello("mirrored/hello:1");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("engine.json");
    std::fs::write(
        &config,
        format!(r#"{{"registry-mirrors": ["http://{}"]}}"#, registry.addr),
    )
    .unwrap();
    let daemon = Daemon::start_with_env(&[("BERTH_ENGINE_CONFIG", config.to_str().unwrap())]);
    let out = daemon.ok(&["pull", "mirrored/hello:1"]);
    assert!(
        out.contains("Downloaded newer image for mirrored/hello:1"),
        "{out}"
    );
    let run = daemon.ok(&["run", "--rm", "mirrored/hello:1", "echo", "from-the-mirror"]);
    assert_eq!(run, "from-the-mirror\n");
    let names = daemon.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(names.lines().any(|l| l == "mirrored/hello:1"), "{names}");
}

/// A documentation address (192.0.2.0/24, never routed) on this machine, so a registry can
/// be reached at an address that is not 127.0.0.0/8 (loopback registries are always trusted
/// as insecure); removed on drop. It sits on `lo`: this kernel has no dummy links.
struct NonLoopback {
    ip: &'static str,
}

impl NonLoopback {
    fn add() -> NonLoopback {
        let me = NonLoopback { ip: "192.0.2.77" };
        let _ = me.ip(&["addr", "del", &format!("{}/32", me.ip), "dev", "lo"]);
        let out = me.ip(&["addr", "add", &format!("{}/32", me.ip), "dev", "lo"]);
        assert!(out.status.success(), "{out:?}");
        me
    }

    fn ip(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new("ip")
            .args(args)
            .output()
            .unwrap()
    }
}

impl Drop for NonLoopback {
    fn drop(&mut self) {
        let _ = self.ip(&["addr", "del", &format!("{}/32", self.ip), "dev", "lo"]);
    }
}

/// TLS to a registry at a non-loopback address is verified: its self-signed CA is refused
/// until the engine's config file lists it in `ca-files`, then the pull works.
#[test]
fn root_tls_is_verified_against_system_roots_plus_configured_cas() {
    let address = NonLoopback::add();
    let registry = Registry::start_at(
        address.ip,
        RegistryOptions {
            auth: None,
            tls: true,
        },
    );
    registry.seed_hello("secure/hello:1");
    let image = format!("{}/secure/hello:1", registry.addr);

    let untrusted = Daemon::start();
    untrusted.fails(&["pull", &image], "certificate");
    assert!(untrusted.ok(&["images", "-q", &image]).trim().is_empty());
    drop(untrusted);

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("engine.json");
    let ca = registry.ca.clone().unwrap();
    std::fs::write(&config, serde_json::json!({ "ca-files": [ca] }).to_string()).unwrap();
    let trusted = Daemon::start_with_env(&[("BERTH_ENGINE_CONFIG", config.to_str().unwrap())]);
    trusted.ok(&["pull", &image]);
    let out = trusted.ok(&["run", "--rm", &image, "echo", "verified"]);
    assert_eq!(out, "verified\n");
}

/// The peak resident memory of the engine serving `daemon` (VmHWM, KiB).
fn engine_peak_kib(daemon: &Daemon) -> u64 {
    let root = daemon.agent.root.to_string_lossy().into_owned();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        if cmdline.contains("serve") && cmdline.split('\0').any(|a| a == root) {
            let status = std::fs::read_to_string(entry.path().join("status")).unwrap();
            let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
            return line.split_whitespace().nth(1).unwrap().parse().unwrap();
        }
    }
    panic!("no engine process for {root}");
}

/// A manifest body that never ends (chunked, no Content-Length) is cut at the 4 MiB cap:
/// the pull fails at once, the engine never held more than the cap, nothing is tagged.
#[test]
fn root_an_endless_manifest_is_cut_at_the_cap() {
    let registry = Hostile::start();
    let daemon = Daemon::start();
    let before = engine_peak_kib(&daemon);
    let started = Instant::now();
    let name = format!("{}/bad/endless", registry.addr);
    daemon.fails(
        &["pull", &name],
        "more than 4194304 bytes, over the 4 MiB limit",
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let grown = engine_peak_kib(&daemon).saturating_sub(before);
    assert!(grown < 32 * 1024, "the engine grew by {grown} KiB");
    assert!(daemon.ok(&["images", "-q", &name]).trim().is_empty());
    // The registry saw the connection go before it had sent 16 MiB.
    let sent_file = registry._dir.path().join("port.sent");
    let deadline = Instant::now() + Duration::from_secs(5);
    let sent: u64 = loop {
        let text = std::fs::read_to_string(&sent_file).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.starts_with("bad/endless ")) {
            break line[12..].parse().unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "the registry never stopped sending"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(sent < 16 << 20, "{sent} bytes were sent");
}

/// The bearer-token flow: the registry answers 401 with a `WWW-Authenticate: Bearer`
/// challenge, the token server checks the `docker login` credentials and is asked with the
/// challenge's service and the repository's pull scope.
#[test]
fn root_pull_through_a_bearer_token_server() {
    let backend = anonymous();
    backend.seed_hello("private/hello:1");
    let front = TokenFront::start(&backend, &["--user", "berth:s3cret"]);
    let daemon = Daemon::start();
    let image = format!("{}/private/hello:1", front.addr);

    // Anonymous: the token server refuses, so does the pull (no login prompt mid-pull).
    daemon.fails(&["pull", &image], "pull access denied");

    let wrong = daemon.docker_with_stdin(
        &["login", "-u", "berth", "--password-stdin", &front.addr],
        b"wrong\n",
    );
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        !wrong.status.success() && stderr.contains("incorrect username or password"),
        "{wrong:?}"
    );
    // Wrong credentials given to the pull itself: the token server's message comes back.
    let auth = base64_encode(b"berth:wrong");
    std::fs::write(
        daemon.config.join("config.json"),
        format!(r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#, front.addr),
    )
    .unwrap();
    daemon.fails(&["pull", &image], "incorrect username or password");
    std::fs::remove_file(daemon.config.join("config.json")).unwrap();

    let right = daemon.docker_with_stdin(
        &["login", "-u", "berth", "--password-stdin", &front.addr],
        b"s3cret\n",
    );
    assert!(right.status.success(), "{right:?}");
    let out = daemon.ok(&["pull", &image]);
    assert!(out.contains("Downloaded newer image"), "{out}");
    assert_eq!(
        daemon.ok(&["run", "--rm", &image, "echo", "token"]).trim(),
        "token"
    );
    let log = front.log();
    let granted: Vec<_> = log
        .iter()
        .filter(|e| e["kind"] == "token" && e["status"] == 200)
        .collect();
    assert!(
        granted.iter().any(|e| e["service"] == "berth-test"
            && e["scope"] == "repository:private/hello:pull"
            && e["user"] == "berth"),
        "{log:#?}"
    );
    // Every manifest and blob the registry served went to a bearer of a token.
    let served: Vec<_> = log
        .iter()
        .filter(|e| e["kind"] == "request" && e["status"] == 200 && e["path"] != "/v2/")
        .collect();
    assert!(
        !served.is_empty() && served.iter().all(|e| e["bearer"] == true),
        "{log:#?}"
    );
}

#[test]
fn root_pull_with_an_anonymous_token() {
    let backend = anonymous();
    backend.seed_hello("public/hello:1");
    let front = TokenFront::start(&backend, &["--anonymous"]);
    let daemon = Daemon::start();
    let image = format!("{}/public/hello:1", front.addr);
    daemon.ok(&["pull", &image]);
    let log = front.log();
    assert!(
        log.iter().any(|e| e["kind"] == "token"
            && e["status"] == 200
            && e["user"].is_null()
            && e["scope"] == "repository:public/hello:pull"),
        "{log:#?}"
    );
}

fn base64_encode(bytes: &[u8]) -> String {
    let out = std::process::Command::new("base64")
        .arg("-w0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(bytes)?;
            child.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Starts `docker pull image` and SIGKILLs the engine once a partial download holds
/// more than 4 MiB; returns that partial (name, size).
fn kill_engine_mid_layer(daemon: &mut Daemon, image: &str) -> (String, u64) {
    let mut child = daemon
        .command()
        .args(["pull", image])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let partial = loop {
        if let Some(p) = partials(&daemon.agent.root)
            .into_iter()
            .find(|(name, size)| name.ends_with(".partial") && *size > 4 << 20)
        {
            break p;
        }
        assert!(Instant::now() < deadline, "no partial download appeared");
        std::thread::sleep(Duration::from_millis(50));
    };
    daemon.kill();
    child.wait().unwrap();
    partial
}

/// The blob GETs of `hex` the registry saw, as their Range headers (None: from byte 0).
fn blob_ranges(front: &TokenFront, hex: &str) -> Vec<Option<String>> {
    front
        .log()
        .iter()
        .filter(|e| e["method"] == "GET" && e["path"].as_str().unwrap_or("").ends_with(hex))
        .map(|e| e["range"].as_str().map(str::to_string))
        .collect()
}

/// A layer download the engine's death interrupted continues after a restart with a
/// Range request from where the kept partial ends; the image is whole and verified.
#[test]
fn root_pull_resumes_a_partial_layer_after_an_engine_kill() {
    let backend = anonymous();
    backend.seed_layers("slow/layers:1", 1, 24 << 20);
    let front = TokenFront::start(&backend, &["--open", "--slow"]);
    front.set_slow(true);
    let mut daemon = Daemon::start();
    let image = format!("{}/slow/layers:1", front.addr);
    let (name, kept) = kill_engine_mid_layer(&mut daemon, &image);
    let hex = name.trim_end_matches(".partial").to_string();
    assert!(kept < 24 << 20, "{kept}");

    front.set_slow(false);
    daemon.spawn();
    let out = daemon.ok(&["pull", &image]);
    assert!(out.contains("Downloaded newer image"), "{out}");
    let ranges = blob_ranges(&front, &hex);
    let last = ranges.last().cloned().flatten();
    let start: u64 = last
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the second pull did not resume: {ranges:?}"));
    assert!(
        start >= kept && start > 0,
        "resumed at {start}, {kept} were kept"
    );
    assert!(
        daemon.agent.root.join("blobs/sha256").join(&hex).is_file(),
        "the layer is not in the store"
    );
    assert_eq!(
        temporaries(&daemon.agent.root),
        0,
        "{:?}",
        partials(&daemon.agent.root)
    );
    let inspected = daemon.ok(&[
        "image",
        "inspect",
        "--format",
        "{{len .RootFS.Layers}}",
        &image,
    ]);
    assert_eq!(inspected.trim(), "2");
}

/// A kept partial whose bytes are wrong fails the digest check over the whole blob; it is
/// not committed, and the layer is downloaded again from byte 0.
#[test]
fn root_a_corrupt_partial_is_caught_and_downloaded_again() {
    let backend = anonymous();
    backend.seed_layers("slow/corrupt:1", 1, 24 << 20);
    let front = TokenFront::start(&backend, &["--open", "--slow"]);
    front.set_slow(true);
    let mut daemon = Daemon::start();
    let image = format!("{}/slow/corrupt:1", front.addr);
    let (name, _) = kill_engine_mid_layer(&mut daemon, &image);
    let hex = name.trim_end_matches(".partial").to_string();
    let path = daemon.agent.root.join("ingest").join(&name);
    let mut bytes = std::fs::read(&path).unwrap();
    for b in &mut bytes[1000..5000] {
        *b = !*b;
    }
    std::fs::write(&path, bytes).unwrap();

    front.set_slow(false);
    daemon.spawn();
    let out = daemon.ok(&["pull", &image]);
    assert!(out.contains("Downloaded newer image"), "{out}");
    let ranges = blob_ranges(&front, &hex);
    let n = ranges.len();
    assert!(n >= 3, "{ranges:?}");
    assert!(
        ranges[n - 2].is_some(),
        "the second pull did not resume first: {ranges:?}"
    );
    assert!(
        ranges[n - 1].is_none(),
        "no download from byte 0 followed: {ranges:?}"
    );
    let stored = daemon.agent.root.join("blobs/sha256").join(&hex);
    let sum = std::process::Command::new("sha256sum")
        .arg(&stored)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&sum.stdout).starts_with(&hex));
    assert_eq!(
        temporaries(&daemon.agent.root),
        0,
        "{:?}",
        partials(&daemon.agent.root)
    );
}
