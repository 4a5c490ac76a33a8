//! A private OCI registry for the registry tests: Debian's `docker-registry` on 127.0.0.1
//! with a free port, its own config and filesystem storage in a temp dir, optionally behind
//! htpasswd auth and TLS (a self-signed CA made with the openssl CLI). Images are placed in
//! it with `skopeo copy` from OCI layouts: berth/hello from images/hello/build, and
//! multi-layer and multi-arch images built with `umoci` from busybox-static. Dropping it
//! kills the registry and removes its directory.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const REGISTRY: &str = "/usr/bin/docker-registry";
const BUSYBOX: &str = "/bin/busybox";

#[derive(Clone, Debug, Default)]
pub struct RegistryOptions {
    /// htpasswd (bcrypt) credentials; `None` is an anonymous registry.
    pub auth: Option<(String, String)>,
    /// HTTPS with a certificate for 127.0.0.1 signed by a fresh CA (see [`Registry::ca`]).
    pub tls: bool,
}

pub struct Registry {
    /// "127.0.0.1:PORT", the registry part of image references.
    pub addr: String,
    /// The CA that signed the server certificate (PEM), when TLS is on.
    pub ca: Option<PathBuf>,
    pub options: RegistryOptions,
    /// The address it listens on (127.0.0.1 unless [`Registry::start_at`] said otherwise).
    ip: String,
    dir: Option<tempfile::TempDir>,
    child: Option<Child>,
}

impl Registry {
    pub fn start(options: RegistryOptions) -> Registry {
        Registry::start_at("127.0.0.1", options)
    }

    /// A registry listening on `ip` (an address of this machine); with TLS, its
    /// certificate names `ip`.
    pub fn start_at(ip: &str, options: RegistryOptions) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("berth-registry")
            .tempdir_in("/tmp")
            .unwrap();
        let ca = options.tls.then(|| make_certs(dir.path(), ip));
        if let Some((user, pass)) = &options.auth {
            let line = format!("{user}:{}\n", bcrypt(pass));
            std::fs::write(dir.path().join("htpasswd"), line).unwrap();
        }
        let mut registry = Registry {
            addr: String::new(),
            ca,
            options,
            ip: ip.to_string(),
            dir: Some(dir),
            child: None,
        };
        // A free port can be taken between probing it and the registry binding it: retry.
        for _ in 0..3 {
            if registry.spawn() {
                return registry;
            }
        }
        panic!("the registry did not come up: {}", registry.log());
    }

    pub fn dir(&self) -> &Path {
        self.dir.as_ref().unwrap().path()
    }

    /// A directory holding only the CA as `ca.crt`: skopeo's and podman's `--cert-dir`,
    /// docker's `certs.d/ADDR`.
    pub fn cert_dir(&self) -> Option<PathBuf> {
        self.ca
            .as_ref()
            .map(|ca| ca.parent().unwrap().to_path_buf())
    }

    /// The registry's own output so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir().join("registry.log")).unwrap_or_default()
    }

    /// The manifest (or index) stored under `name`, as the registry serves it.
    pub fn raw_manifest(&self, name: &str) -> serde_json::Value {
        let out = Command::new("skopeo")
            .args(["inspect", "--raw"])
            .args(
                self.skopeo_flags("src")
                    .iter()
                    .map(|f| f.replace("--src-", "--")),
            )
            .arg(self.url(name))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// `docker://ADDR/NAME`, for skopeo.
    pub fn url(&self, name: &str) -> String {
        format!("docker://{}/{name}", self.addr)
    }

    fn spawn(&mut self) -> bool {
        let port = TcpListener::bind((self.ip.as_str(), 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        self.addr = format!("{}:{port}", self.ip);
        let config = self.dir().join("config.yml");
        std::fs::write(&config, self.config()).unwrap();
        let log = std::fs::File::create(self.dir().join("registry.log")).unwrap();
        let mut child = Command::new(REGISTRY)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{REGISTRY}: {e} (apt package docker-registry)"));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            if self.answers_v2() {
                self.child = Some(child);
                return true;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn config(&self) -> String {
        let dir = self.dir().display();
        let mut config = format!(
            "version: 0.1\n\
             log:\n  level: warn\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {dir}/data\n  delete:\n    enabled: true\n\
             http:\n  addr: {}\n  secret: berth-test-secret\n",
            self.addr
        );
        if self.options.tls {
            config +=
                &format!("  tls:\n    certificate: {dir}/server.crt\n    key: {dir}/server.key\n");
        }
        if self.options.auth.is_some() {
            config +=
                &format!("auth:\n  htpasswd:\n    realm: berth-test\n    path: {dir}/htpasswd\n");
        }
        config
    }

    /// Whether GET /v2/ gets an HTTP answer (200, or 401 behind auth), over verified TLS
    /// when TLS is on.
    fn answers_v2(&self) -> bool {
        let request = format!("GET /v2/ HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr);
        let mut response = String::new();
        if let Some(ca) = &self.ca {
            let Ok(mut child) = Command::new("openssl")
                .args(["s_client", "-quiet", "-verify_return_error", "-connect"])
                .arg(&self.addr)
                .arg("-CAfile")
                .arg(ca)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
            else {
                return false;
            };
            let _ = child.stdin.take().unwrap().write_all(request.as_bytes());
            let out = child.wait_with_output().unwrap();
            response = String::from_utf8_lossy(&out.stdout).into_owned();
        } else if let Ok(mut stream) = TcpStream::connect(&self.addr) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            if stream.write_all(request.as_bytes()).is_ok() {
                let _ = stream.read_to_string(&mut response);
            }
        }
        // Go answers in the request's version: "HTTP/1.0 200 OK".
        let status = response.split_whitespace().nth(1);
        response.starts_with("HTTP/1.") && matches!(status, Some("200" | "401"))
    }

    /// skopeo's flags to reach this registry as a destination (`dest`) or source (`src`).
    pub fn skopeo_flags(&self, side: &str) -> Vec<String> {
        let mut flags = Vec::new();
        match self.cert_dir() {
            Some(dir) => flags.push(format!("--{side}-cert-dir={}", dir.display())),
            None => flags.push(format!("--{side}-tls-verify=false")),
        }
        if let Some((user, pass)) = &self.options.auth {
            flags.push(format!("--{side}-creds={user}:{pass}"));
        }
        flags
    }

    /// `skopeo copy` of `source` (any skopeo reference) to NAME in this registry; returns
    /// the digest of what was pushed (a manifest, or an index with `all`).
    pub fn skopeo_push(&self, source: &str, name: &str, all: bool) -> String {
        let digest_file = self.dir().join("digest");
        let mut cmd = Command::new("skopeo");
        cmd.args(["copy", "--quiet", "--retry-times", "2"]);
        if all {
            cmd.arg("--all");
        }
        cmd.args(self.skopeo_flags("dest"))
            .arg("--digestfile")
            .arg(&digest_file)
            .arg(source)
            .arg(self.url(name));
        ok(&mut cmd);
        std::fs::read_to_string(digest_file)
            .unwrap()
            .trim()
            .to_string()
    }

    /// `skopeo list-tags` of a repository here.
    pub fn tags(&self, repository: &str) -> Vec<String> {
        let out = ok(Command::new("skopeo")
            .arg("list-tags")
            .args(
                self.skopeo_flags("src")
                    .iter()
                    .map(|f| f.replace("--src-", "--")),
            )
            .arg(self.url(repository)));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["Tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string())
            .collect()
    }

    /// The demo image (images/hello/build's OCI layout) as NAME ("berth/hello:1").
    pub fn seed_hello(&self, name: &str) -> String {
        let layout = super::hello_archive().parent().unwrap().join("oci");
        self.skopeo_push(&format!("oci:{}:latest", layout.display()), name, false)
    }

    /// A busybox image with `n_layers` more layers on top, each one file
    /// `/layers/N` of `bytes_per_layer` pseudo-random (incompressible, deterministic) bytes.
    /// Returns the manifest digest.
    pub fn seed_layers(&self, name: &str, n_layers: usize, bytes_per_layer: usize) -> String {
        let work = self.work_dir();
        let image = format!("{}:img", layout(&work));
        base_image(&image, host_arch(), "layers");
        for n in 0..n_layers {
            let file = work.join(format!("layer{n}"));
            std::fs::write(&file, pseudo_random(n as u64 + 1, bytes_per_layer)).unwrap();
            umoci(&[
                "insert",
                "--image",
                &image,
                path(&file),
                &format!("/layers/{n}"),
            ]);
            std::fs::remove_file(file).unwrap();
        }
        let digest = self.skopeo_push(&format!("oci:{image}"), name, false);
        std::fs::remove_dir_all(work).unwrap();
        digest
    }

    /// An OCI index of linux/amd64 and linux/arm64/v8 images as NAME. Both carry busybox
    /// and `/etc/arch` holding their architecture ("amd64", "arm64"). Returns the index
    /// digest.
    pub fn seed_multiarch(&self, name: &str) -> String {
        let work = self.work_dir();
        let layout_dir = layout(&work);
        let mut manifests = Vec::new();
        for (arch, variant) in [("amd64", None), ("arm64", Some("v8"))] {
            base_image(&format!("{layout_dir}:{arch}"), arch, arch);
            let descriptor = ref_descriptor(&work.join("oci"), arch);
            let mut platform = serde_json::json!({"architecture": arch, "os": "linux"});
            if let Some(variant) = variant {
                platform["variant"] = variant.into();
            }
            manifests.push(serde_json::json!({
                "mediaType": descriptor["mediaType"],
                "digest": descriptor["digest"],
                "size": descriptor["size"],
                "platform": platform,
            }));
        }
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        });
        add_index(&work.join("oci"), "multiarch", &index);
        let digest = self.skopeo_push(&format!("oci:{layout_dir}:multiarch"), name, true);
        std::fs::remove_dir_all(work).unwrap();
        digest
    }

    fn work_dir(&self) -> PathBuf {
        tempfile::Builder::new()
            .prefix("seed")
            .tempdir_in(self.dir())
            .unwrap()
            .keep()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        drop(self.dir.take());
    }
}

fn ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {out:?}");
    out
}

fn umoci(args: &[&str]) {
    ok(Command::new("umoci").args(args));
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `umoci init` of WORK/oci; returns the layout path.
fn layout(work: &Path) -> String {
    let layout = path(&work.join("oci")).to_string();
    umoci(&["init", "--layout", &layout]);
    layout
}

/// IMAGE (LAYOUT:TAG): busybox-static as /bin/busybox and /bin/sh, `/etc/arch` holding
/// `content`, for linux/ARCH.
fn base_image(image: &str, arch: &str, content: &str) {
    let layout = Path::new(image.rsplit_once(':').unwrap().0);
    let files = layout.parent().unwrap().join(format!("rootfs-{content}"));
    std::fs::create_dir_all(files.join("bin")).unwrap();
    std::fs::create_dir_all(files.join("etc")).unwrap();
    std::fs::copy(BUSYBOX, files.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", files.join("bin/sh")).unwrap();
    std::fs::write(files.join("etc/arch"), content).unwrap();
    umoci(&["new", "--image", image]);
    umoci(&["insert", "--image", image, path(&files), "/"]);
    umoci(&[
        "config",
        "--image",
        image,
        "--os",
        "linux",
        "--architecture",
        arch,
        "--config.cmd",
        "/bin/sh",
    ]);
    std::fs::remove_dir_all(files).unwrap();
}

/// The descriptor tagged `name` in the layout's index.json.
fn ref_descriptor(layout: &Path, name: &str) -> serde_json::Value {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {index}"))
        .clone()
}

/// Writes `index` as a blob of the layout and tags it `name` in index.json.
fn add_index(layout: &Path, name: &str, index: &serde_json::Value) {
    let bytes = serde_json::to_vec(index).unwrap();
    let blob = layout.join("index-blob");
    std::fs::write(&blob, &bytes).unwrap();
    let out = ok(Command::new("sha256sum").arg(&blob));
    let hex = String::from_utf8(out.stdout).unwrap()[..64].to_string();
    std::fs::rename(blob, layout.join("blobs/sha256").join(&hex)).unwrap();
    let index_path = layout.join("index.json");
    let mut top: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    top["manifests"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": format!("sha256:{hex}"),
            "size": bytes.len(),
            "annotations": {"org.opencontainers.image.ref.name": name},
        }));
    std::fs::write(index_path, serde_json::to_vec(&top).unwrap()).unwrap();
}

/// `len` bytes of xorshift64* output from `seed`: incompressible and the same every run.
pub fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The engine host's architecture as OCI spells it.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// A bcrypt htpasswd hash (the only kind docker-registry accepts), from python3's `crypt`
/// (present up to Python 3.12; Debian 12 has 3.11).
fn bcrypt(password: &str) -> String {
    let out = ok(Command::new("python3").args([
        "-W",
        "ignore",
        "-c",
        "import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 5)))",
        password,
    ]));
    let hash = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        hash.starts_with("$2"),
        "no bcrypt in python3's crypt: {hash}"
    );
    hash
}

/// A CA and a server certificate for `ip` (IP SAN) signed by it, in `dir`; returns the
/// CA's path (DIR/certs/ca.crt, alone in its directory).
fn make_certs(dir: &Path, ip: &str) -> PathBuf {
    let certs = dir.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    let ca = certs.join("ca.crt");
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    ok(Command::new("openssl")
        .args(["req", "-x509", "-days", "2", "-subj", "/CN=berth-test-ca"])
        .args(ec)
        .arg("-keyout")
        .arg(dir.join("ca.key"))
        .arg("-out")
        .arg(&ca));
    ok(Command::new("openssl")
        .args(["req", "-subj", &format!("/CN={ip}")])
        .args(ec)
        .arg("-keyout")
        .arg(dir.join("server.key"))
        .arg("-out")
        .arg(dir.join("server.csr")));
    std::fs::write(
        dir.join("server.ext"),
        format!(
            "subjectAltName=IP:{ip}\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        ),
    )
    .unwrap();
    ok(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(dir.join("server.csr"))
        .arg("-CA")
        .arg(&ca)
        .arg("-CAkey")
        .arg(dir.join("ca.key"))
        .arg("-CAserial")
        .arg(dir.join("ca.srl"))
        .arg("-extfile")
        .arg(dir.join("server.ext"))
        .arg("-out")
        .arg(dir.join("server.crt")));
    ca
}

/// tests/fixtures/token-registry.py in front of a [`Registry`]: the bearer-token flow
/// (a token realm checking Basic credentials) and throttled blobs; every request is
/// logged. Killed on drop.
pub struct TokenFront {
    /// "127.0.0.1:PORT".
    pub addr: String,
    child: Child,
    dir: tempfile::TempDir,
}

impl TokenFront {
    /// `args`: `--user U:P`, `--anonymous`, `--open` (no auth), `--slow` (blobs throttled
    /// while [`TokenFront::set_slow`] says so).
    pub fn start(backend: &Registry, args: &[&str]) -> TokenFront {
        let dir = tempfile::Builder::new()
            .prefix("berth-front")
            .tempdir_in("/tmp")
            .unwrap();
        let port_file = dir.path().join("port");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/token-registry.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script)
            .arg(&port_file)
            .arg(dir.path().join("log"))
            .arg(&backend.addr);
        for arg in args {
            if *arg == "--slow" {
                cmd.arg("--slow").arg(dir.path().join("slow"));
            } else {
                cmd.arg(arg);
            }
        }
        let child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let port = loop {
            if let Ok(port) = std::fs::read_to_string(&port_file) {
                if !port.is_empty() {
                    break port;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the token registry did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        TokenFront {
            addr: format!("127.0.0.1:{port}"),
            child,
            dir,
        }
    }

    /// Throttles blob bodies (about 2 MiB/s) or not.
    pub fn set_slow(&self, slow: bool) {
        let flag = self.dir.path().join("slow");
        if slow {
            std::fs::write(flag, b"").unwrap();
        } else {
            let _ = std::fs::remove_file(flag);
        }
    }

    /// The logged requests and token requests, oldest first.
    pub fn log(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.dir.path().join("log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for TokenFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
