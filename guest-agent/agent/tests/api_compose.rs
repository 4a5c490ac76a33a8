//! Debian's docker-compose (docker-py underneath: a third client) brings up a two-service
//! app on Berth: one service reaches the other by its service name on the project's
//! network, and the web service's published port answers on the host. `down` removes
//! containers and network.

mod common;

use std::time::{Duration, Instant};

use common::daemon::Daemon;

const PORT: u16 = 18731;

fn compose_file() -> String {
    format!(
        r#"version: "3.8"
services:
  web:
    image: berth/hello
    ports:
      - "127.0.0.1:{PORT}:80"
  probe:
    image: berth/hello
    depends_on: [web]
    command: ["sh", "-c", "for i in $$(seq 100); do wget -qO- http://web/ >/dev/null && echo REACHED-WEB && exit 0; sleep 0.1; done; exit 1"]
"#
    )
}

fn get(port: u16) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")?;
    let mut page = String::new();
    stream.read_to_string(&mut page)?;
    Ok(page)
}

#[test]
fn compose_brings_up_two_services_that_reach_each_other() {
    let daemon = Daemon::start();
    let dir = daemon.config.parent().unwrap().join("app");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("docker-compose.yml"), compose_file()).unwrap();
    let compose = |args: &[&str]| {
        let out = std::process::Command::new("docker-compose")
            .current_dir(&dir)
            .env("DOCKER_HOST", daemon.host())
            .env("DOCKER_CONFIG", &daemon.config)
            .args(["-p", "berthapp"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "docker-compose {args:?}: {out:?}\n{}",
            daemon.log()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    compose(&["up", "-d"]);

    let probe_exit = daemon.ok(&["wait", "berthapp_probe_1"]);
    assert_eq!(
        probe_exit.trim(),
        "0",
        "{}",
        compose(&["logs", "--no-color", "probe"])
    );
    assert!(compose(&["logs", "--no-color", "probe"]).contains("REACHED-WEB"));

    let deadline = Instant::now() + Duration::from_secs(10);
    let page = loop {
        match get(PORT) {
            Ok(page) if page.contains("200 OK") => break page,
            other => assert!(Instant::now() < deadline, "port {PORT}: {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(page.contains("Berth"), "{page}");

    compose(&["down"]);
    let left = daemon.ok(&["ps", "-aq", "--filter", "name=berthapp"]);
    assert!(left.trim().is_empty(), "containers left: {left}");
    let networks = daemon.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(!networks.contains("berthapp"), "network left: {networks}");
    assert!(get(PORT).is_err(), "the port still answers after down");
}
