//! `--mount`, `--tmpfs` and `-P` through the real docker CLI: what a process inside the
//! container sees, and a published port that answers.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::daemon::Daemon;

fn http_get(addr: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let attempt = std::net::TcpStream::connect(addr).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
            let mut page = String::new();
            s.read_to_string(&mut page)?;
            Ok(page)
        });
        match attempt {
            Ok(page) if page.contains("200 OK") => return page,
            other => assert!(Instant::now() < deadline, "{addr}: {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn mount_flags_bind_volume_and_tmpfs() {
    let daemon = Daemon::start();
    let host_dir = daemon.config.parent().unwrap().join("shared");
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::write(host_dir.join("hello.txt"), "from the host\n").unwrap();
    let bind = format!("type=bind,src={},dst=/data,readonly", host_dir.display());
    let script = "cat /data/hello.txt; \
                  touch /data/new 2>/dev/null && echo WROTE || echo READ-ONLY; \
                  echo kept > /v/file; \
                  grep -E ' /t | /scratch ' /proc/mounts | cut -d' ' -f2,3,4";
    let out = daemon.ok(&[
        "run",
        "--rm",
        "--mount",
        &bind,
        "--mount",
        "type=volume,src=mnt-vol,dst=/v",
        "--mount",
        "type=tmpfs,dst=/t,tmpfs-size=1048576",
        "--tmpfs",
        "/scratch:size=2m",
        "berth/hello",
        "sh",
        "-c",
        script,
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "from the host", "{out}");
    assert_eq!(lines[1], "READ-ONLY", "{out}");
    assert!(!host_dir.join("new").exists());
    let t = lines
        .iter()
        .find(|l| l.starts_with("/t "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(t.contains("tmpfs") && t.contains("size=1024k"), "{t}");
    let scratch = lines
        .iter()
        .find(|l| l.starts_with("/scratch "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        scratch.contains("tmpfs") && scratch.contains("size=2048k"),
        "{scratch}"
    );
    // The named volume outlives the container; the tmpfs contents do not exist anywhere.
    let again = daemon.ok(&[
        "run",
        "--rm",
        "--mount",
        "src=mnt-vol,dst=/v",
        "berth/hello",
        "cat",
        "/v/file",
    ]);
    assert_eq!(again, "kept\n");
    // A bind source that does not exist is refused before anything runs.
    daemon.fails(
        &[
            "run",
            "--rm",
            "--mount",
            "type=bind,src=/no/such/dir,dst=/x",
            "berth/hello",
            "true",
        ],
        "/no/such/dir",
    );
}

#[test]
fn publish_all_maps_exposed_ports_to_free_loopback_ports() {
    let daemon = Daemon::start();
    let id = daemon.ok(&["run", "-d", "-P", "berth/hello"]);
    let id = id.trim();
    let port = daemon.ok(&["port", id, "80/tcp"]);
    let addr = port.lines().next().unwrap_or("").trim().to_string();
    assert!(
        addr.starts_with("127.0.0.1:"),
        "-P binds the loopback by default: {port}"
    );
    assert!(http_get(&addr).contains("Berth"));
    daemon.ok(&["rm", "-f", id]);
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "{addr} still answers after rm"
    );
}
