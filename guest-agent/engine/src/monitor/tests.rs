//! Monitors running real containers (busybox bundles, berth-runtime). Need root, like the
//! runtime's tests.

use std::io::{Read, Write};
use std::ops::ControlFlow;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::*;
use crate::logs::{self, Entry, ReadOptions, Stream, WriterOptions, LINE_LIMIT};

struct Fixture {
    _tmp: tempfile::TempDir,
    cfg: MonitorConfig,
}

/// A busybox bundle running `args`, a container dir and a runtime root, all temporary.
fn fixture(name: &str, args: &[&str]) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = tmp.path().join("bundle");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/busybox-bundle.sh");
    let status = std::process::Command::new(script)
        .arg(&bundle)
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "bundle script failed");
    let id = format!("mon-{name}-{}", std::process::id());
    let cfg = MonitorConfig {
        container_dir: tmp.path().join("containers").join(&id),
        id,
        bundle,
        runtime_root: tmp.path().join("runtime"),
        tty: false,
        stdin: false,
        stdin_once: false,
        log: WriterOptions::default(),
    };
    Fixture { _tmp: tmp, cfg }
}

/// Edits the bundle's config.json.
fn edit_spec(cfg: &MonitorConfig, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = cfg.bundle.join("config.json");
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut spec);
    std::fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
}

fn wait_exit(cfg: &MonitorConfig, timeout: Duration) -> ExitRecord {
    let start = Instant::now();
    loop {
        if let Some(record) = ExitRecord::load(&cfg.container_dir).unwrap() {
            return record;
        }
        assert!(start.elapsed() < timeout, "no exit.json after {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn entries(cfg: &MonitorConfig) -> Vec<Entry> {
    let mut all = Vec::new();
    let path = logs::log_path(&cfg.container_dir, &cfg.id);
    let stats = logs::read(
        &path,
        &ReadOptions::default(),
        || true,
        |e| {
            all.push(e);
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    assert_eq!(stats.malformed, 0);
    all
}

fn stream_text(entries: &[Entry], stream: Stream) -> String {
    entries
        .iter()
        .filter(|e| e.stream == stream)
        .map(|e| e.log.as_str())
        .collect()
}

fn alive(pid: i32) -> bool {
    // A zombie is dead; only its parent (init here) has not collected it yet.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !matches!(
            stat.rsplit(") ").next().and_then(|s| s.chars().next()),
            Some('Z' | 'X')
        )
    })
}

/// (VmRSS, RssAnon) of `pid` in KiB.
fn memory_kib(pid: i32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("VmRSS:")?, field("RssAnon:")?))
}

/// Not a test of its own: the entry point the RSS test execs this binary into, standing in
/// for `berth-agent monitor`. Run normally it checks the configuration's JSON form.
#[test]
fn monitor_entry() {
    if std::env::var_os(CONFIG_ENV).is_some() {
        run_from_env();
    }
    let cfg = fixture("entry", &["true"]).cfg;
    let json = serde_json::to_string(&cfg).unwrap();
    assert_eq!(serde_json::from_str::<MonitorConfig>(&json).unwrap(), cfg);
}

#[test]
fn root_output_is_logged_per_stream_in_order_and_the_container_cleaned_up() {
    let f = fixture(
        "streams",
        &[
            "sh",
            "-c",
            "for i in 1 2 3; do echo out$i; echo err$i >&2; done",
        ],
    );
    let started = spawn(&f.cfg, &Launch::InProcess).unwrap();
    assert!(started.container_pid > 0);
    let pid_file = std::fs::read_to_string(f.cfg.container_dir.join(PID_FILE)).unwrap();
    assert_eq!(pid_file, started.monitor_pid.to_string());
    let record = wait_exit(&f.cfg, Duration::from_secs(20));
    assert_eq!(
        (record.exit_code, record.signal, record.error.clone()),
        (0, None, None)
    );
    let all = entries(&f.cfg);
    assert_eq!(stream_text(&all, Stream::Stdout), "out1\nout2\nout3\n");
    assert_eq!(stream_text(&all, Stream::Stderr), "err1\nerr2\nerr3\n");
    assert!(
        !f.cfg.runtime_root.join(&f.cfg.id).exists(),
        "runtime state left"
    );
    assert!(!f.cfg.container_dir.join(ATTACH_SOCKET).exists());
}

#[test]
fn root_exit_code_and_death_by_signal_are_recorded() {
    let f = fixture("code", &["sh", "-c", "exit 3"]);
    spawn(&f.cfg, &Launch::InProcess).unwrap();
    let record = wait_exit(&f.cfg, Duration::from_secs(20));
    assert_eq!((record.exit_code, record.signal), (3, None));
    assert!(logs::parse_rfc3339(&record.finished_at).is_some());

    let f = fixture("signal", &["sleep", "100"]);
    let started = spawn(&f.cfg, &Launch::InProcess).unwrap();
    kill(Pid::from_raw(started.container_pid), Signal::SIGKILL).unwrap();
    let record = wait_exit(&f.cfg, Duration::from_secs(20));
    assert_eq!((record.exit_code, record.signal), (137, Some(9)));
    assert_eq!(record.oom_killed, Some(false));
}

#[test]
fn root_a_failed_create_is_the_caller_s_error() {
    let f = fixture("missing", &["/no/such/binary"]);
    let err = spawn(&f.cfg, &Launch::InProcess).unwrap_err();
    let text = chain(&err);
    assert!(text.contains("/no/such/binary"), "{text}");
    assert!(!f.cfg.container_dir.join(PID_FILE).exists());
    assert!(ExitRecord::load(&f.cfg.container_dir).unwrap().is_none());
}

#[test]
fn root_the_monitor_outlives_the_engine_that_started_it() {
    let script = "i=0; while [ $i -lt 30 ]; do echo tick $i; i=$((i+1)); sleep 0.05; done; exit 7";
    let f = fixture("survive", &["sh", "-c", script]);
    let (mut from_engine, to_test) = UnixStream::pair().unwrap();
    // SAFETY: the child only starts the monitor, writes one line and waits to be killed.
    let engine = match unsafe { nix::unistd::fork() }.unwrap() {
        nix::unistd::ForkResult::Child => {
            let started = spawn(&f.cfg, &Launch::InProcess).unwrap();
            let mut to_test = to_test;
            let _ = writeln!(to_test, "{}", started.monitor_pid);
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        nix::unistd::ForkResult::Parent { child } => child,
    };
    drop(to_test);
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(&mut from_engine), &mut line).unwrap();
    kill(engine, Signal::SIGKILL).unwrap();
    nix::sys::wait::waitpid(engine, None).unwrap();
    let monitor: i32 = line
        .trim()
        .parse()
        .expect("the engine reported no monitor pid");
    std::thread::sleep(Duration::from_millis(200));
    assert!(alive(monitor), "the monitor died with the engine");
    let ticks_then = stream_text(&entries(&f.cfg), Stream::Stdout)
        .lines()
        .count();
    assert!(ticks_then < 30, "the container should still be printing");
    let record = wait_exit(&f.cfg, Duration::from_secs(20));
    assert_eq!(record.exit_code, 7);
    let want: String = (0..30).map(|i| format!("tick {i}\n")).collect();
    assert_eq!(stream_text(&entries(&f.cfg), Stream::Stdout), want);
}

#[test]
fn root_fifty_megabytes_without_newline_are_split_and_the_monitor_stays_small() {
    let script = "yes | tr -d '\\n' | head -c 50000000; sleep 0.3";
    let mut f = fixture("bulk", &["sh", "-c", script]);
    f.cfg.log = WriterOptions {
        max_size: None,
        max_files: 1,
    };
    // Exec'd like `berth-agent monitor`: this test binary, running only `monitor_entry`.
    let launch = Launch::Exec {
        program: std::env::current_exe().unwrap(),
        args: ["monitor::tests::monitor_entry", "--exact", "--nocapture"]
            .map(Into::into)
            .to_vec(),
    };
    let started = spawn(&f.cfg, &launch).unwrap();
    let (mut peak_rss, mut peak_anon) = (0, 0);
    while ExitRecord::load(&f.cfg.container_dir).unwrap().is_none() {
        if let Some((rss, anon)) = memory_kib(started.monitor_pid) {
            peak_rss = peak_rss.max(rss);
            peak_anon = peak_anon.max(anon);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let record = wait_exit(&f.cfg, Duration::from_secs(1));
    assert_eq!((record.exit_code, record.error), (0, None));
    let all = entries(&f.cfg);
    assert!(all
        .iter()
        .all(|e| e.log.len() <= LINE_LIMIT && e.is_partial()));
    assert_eq!(all.iter().map(|e| e.log.len()).sum::<usize>(), 50_000_000);
    eprintln!("monitor while logging 50 MB: VmRSS {peak_rss} KiB, RssAnon {peak_anon} KiB");
    assert!(peak_anon > 0, "never measured the monitor");
    assert!(
        peak_anon < MONITOR_PRIVATE_LIMIT_KIB,
        "monitor RssAnon {peak_anon} KiB"
    );
}

/// The monitor's target is 2 MiB. What is asserted is its private memory (heap, stacks:
/// RssAnon), which is what each container adds and what would grow with its output. VmRSS
/// also counts the code pages of this exec'd debug test binary (~10 MiB here, shared with
/// every process running it); it is printed, not asserted (see the report in the test
/// output).
const MONITOR_PRIVATE_LIMIT_KIB: u64 = 2048;

#[test]
fn root_attach_clients_get_framed_output_and_feed_stdin() {
    let script = "read line; echo got $line; echo warn >&2; read rest; echo bye; exit 4";
    let mut f = fixture("attach", &["sh", "-c", script]);
    f.cfg.stdin = true;
    f.cfg.stdin_once = true;
    spawn(&f.cfg, &Launch::InProcess).unwrap();
    let mut client = UnixStream::connect(f.cfg.container_dir.join(ATTACH_SOCKET)).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    client.write_all(b"hello\n").unwrap();
    // Closing our write side closes the container's stdin (stdin_once): `read rest` ends.
    std::thread::sleep(Duration::from_millis(100));
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut frames = Vec::new();
    client.read_to_end(&mut frames).unwrap();
    let mut got = Vec::new();
    let mut rest = &frames[..];
    while rest.len() >= 8 {
        let len = u32::from_be_bytes(rest[4..8].try_into().unwrap()) as usize;
        got.push((
            rest[0],
            String::from_utf8_lossy(&rest[8..8 + len]).into_owned(),
        ));
        rest = &rest[8 + len..];
    }
    assert!(rest.is_empty(), "a torn frame");
    let stdout: String = got
        .iter()
        .filter(|(k, _)| *k == 1)
        .map(|(_, t)| t.as_str())
        .collect();
    let stderr: String = got
        .iter()
        .filter(|(k, _)| *k == 2)
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(
        (stdout.as_str(), stderr.as_str()),
        ("got hello\nbye\n", "warn\n")
    );
    assert_eq!(wait_exit(&f.cfg, Duration::from_secs(10)).exit_code, 4);
}

#[test]
fn root_a_tty_container_logs_its_terminal_output() {
    let mut f = fixture("tty", &["sh", "-c", "tty; echo hi from a tty"]);
    f.cfg.tty = true;
    edit_spec(&f.cfg, |spec| spec["process"]["terminal"] = true.into());
    spawn(&f.cfg, &Launch::InProcess).unwrap();
    assert_eq!(wait_exit(&f.cfg, Duration::from_secs(20)).exit_code, 0);
    let all = entries(&f.cfg);
    assert!(all.iter().all(|e| e.stream == Stream::Stdout));
    // A terminal turns "\n" into "\r\n".
    assert_eq!(
        stream_text(&all, Stream::Stdout),
        "/dev/pts/0\r\nhi from a tty\r\n"
    );
    assert!(!f.cfg.container_dir.join(CONSOLE_SOCKET).exists());
}

#[test]
fn root_an_oom_killed_container_is_recorded_as_such() {
    // The shell keeps the whole output in a variable: far past a 16 MiB limit.
    let f = fixture(
        "oom",
        &["sh", "-c", "x=$(yes | head -c 200000000); echo survived"],
    );
    edit_spec(&f.cfg, |spec| {
        spec["linux"]["resources"]["memory"] = serde_json::json!({ "limit": 16 << 20 });
    });
    spawn(&f.cfg, &Launch::InProcess).unwrap();
    let record = wait_exit(&f.cfg, Duration::from_secs(60));
    assert_eq!(record.oom_killed, Some(true), "{record:?}");
    assert_eq!(record.signal, Some(9));
}
