//! The legacy builder, `diff`, `commit` and `export` through the real docker CLI
//! (`DOCKER_BUILDKIT=0`). Needs root, like every test of the daemon.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::daemon::Daemon;

/// `docker build` in `dir` with the legacy builder; the combined output and success.
fn build(daemon: &Daemon, dir: &Path, args: &[&str]) -> (String, bool) {
    let out = daemon
        .command()
        .env("DOCKER_BUILDKIT", "0")
        .current_dir(dir)
        .arg("build")
        .args(args)
        .arg(".")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (text, out.status.success())
}

/// Runs `image` with `cmd` (no network) to its end; its output.
fn run(daemon: &Daemon, name: &str, image: &str, cmd: &[&str]) -> String {
    let mut args = vec!["create", "--network", "none", "--name", name, image];
    args.extend_from_slice(cmd);
    daemon.ok(&args);
    daemon.ok(&["start", name]);
    daemon.ok(&["wait", name]);
    daemon.ok(&["logs", name])
}

fn context(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

const DOCKERFILE: &str = r#"FROM berth/hello
ARG GREETING=hello
ENV APP_HOME=/app NAME="two words"
WORKDIR $APP_HOME
COPY a.txt sub/ ./
COPY --chown=65534:65534 *.md /docs/
RUN echo "ran with $GREETING" && ls /app > /app/list.txt
USER nobody
EXPOSE 8080
VOLUME /data
LABEL org.example.kind="demo"
STOPSIGNAL SIGINT
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat /app/a.txt"]
"#;

fn demo_context() -> tempfile::TempDir {
    context(&[
        ("Dockerfile", DOCKERFILE),
        ("a.txt", "from the context\n"),
        ("sub/s.txt", "sub file\n"),
        ("README.md", "readme\n"),
        ("ignored.log", "never copied\n"),
        (".dockerignore", "*.log\n"),
    ])
}

#[test]
fn build_runs_every_instruction_and_the_image_shows_them() {
    let daemon = Daemon::start();
    let ctx = demo_context();
    let (out, ok) = build(
        &daemon,
        ctx.path(),
        &["--build-arg", "GREETING=hi", "-t", "demo:1"],
    );
    assert!(ok, "{out}\n{}", daemon.log());
    for want in [
        "Step 1/14 : FROM berth/hello",
        "Step 7/14 : RUN echo",
        " ---> Running in ",
        "ran with hi",
        "Successfully built ",
        "Successfully tagged demo:1",
    ] {
        assert!(out.contains(want), "{want:?} not in {out}");
    }
    assert_eq!(run(&daemon, "default", "demo:1", &[]), "from the context\n");
    let shown = run(
        &daemon,
        "probe",
        "demo:1",
        &["id -u; pwd; echo $NAME; cat list.txt; stat -c %u /docs/README.md; ls /app"],
    );
    assert_eq!(
        shown,
        "65534\n/app\ntwo words\na.txt\nlist.txt\ns.txt\n65534\na.txt\nlist.txt\ns.txt\n"
    );
    let inspect = daemon.ok(&[
        "image",
        "inspect",
        "demo:1",
        "--format",
        "{{index .Config.Labels \"org.example.kind\"}} {{.Config.User}} {{json .Config.ExposedPorts}} {{.Config.StopSignal}} {{json .Config.Volumes}}",
    ]);
    // 80/tcp comes from berth/hello.
    assert_eq!(
        inspect.trim(),
        r#"demo nobody {"80/tcp":{},"8080/tcp":{}} SIGINT {"/data":{}}"#
    );
    // Intermediate containers are gone: only the two this test ran are left.
    assert_eq!(daemon.ok(&["ps", "-aq"]).lines().count(), 2);
}

#[test]
fn the_cache_reuses_steps_until_the_context_changes() {
    let daemon = Daemon::start();
    let ctx = demo_context();
    let (out, ok) = build(&daemon, ctx.path(), &["-t", "demo:1"]);
    assert!(ok, "{out}");
    let started = Instant::now();
    let (again, ok) = build(&daemon, ctx.path(), &["-t", "demo:2"]);
    assert!(ok, "{again}");
    assert_eq!(again.matches("Using cache").count(), 13, "{again}");
    assert!(!again.contains("Running in"), "{again}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let id = |name: &str| daemon.ok(&["image", "inspect", name, "--format", "{{.Id}}"]);
    assert_eq!(id("demo:1"), id("demo:2"));

    std::fs::write(ctx.path().join("a.txt"), "changed\n").unwrap();
    let (changed, ok) = build(&daemon, ctx.path(), &["-t", "demo:3"]);
    assert!(ok, "{changed}");
    let copy_step = changed.find("Step 5/14 : COPY a.txt").unwrap();
    assert_eq!(
        changed[..copy_step].matches("Using cache").count(),
        3,
        "{changed}"
    );
    assert!(changed[copy_step..].contains("Running in"), "{changed}");
    assert_eq!(run(&daemon, "changed", "demo:3", &[]), "changed\n");

    let (fresh, ok) = build(&daemon, ctx.path(), &["--no-cache", "-t", "demo:4"]);
    assert!(ok, "{fresh}");
    assert!(!fresh.contains("Using cache"), "{fresh}");
}

#[test]
fn a_failing_run_fails_the_build_and_leaves_no_container() {
    let daemon = Daemon::start();
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth/hello\nRUN echo before\nRUN false\n",
    )]);
    let (out, ok) = build(&daemon, ctx.path(), &["-t", "broken"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("The command '/bin/sh -c false' returned a non-zero code: 1"),
        "{out}"
    );
    assert_eq!(daemon.ok(&["ps", "-aq"]), "");
    daemon.fails(&["image", "inspect", "broken"], "No such image");
}

#[test]
fn diff_commit_and_export_show_a_containers_changes() {
    let daemon = Daemon::start();
    let out = run(
        &daemon,
        "changer",
        "berth/hello",
        &["sh", "-c", "echo hi > /tmp/x; rm /etc/group; mkdir /newdir"],
    );
    assert_eq!(out, "");
    let diff = daemon.ok(&["diff", "changer"]);
    for line in ["C /tmp", "A /tmp/x", "C /etc", "D /etc/group", "A /newdir"] {
        assert!(diff.lines().any(|l| l == line), "{line:?} not in {diff}");
    }
    assert!(
        !diff.contains("/proc") && !diff.contains("/etc/hosts"),
        "{diff}"
    );

    let id = daemon.ok(&[
        "commit",
        "-c",
        "CMD [\"cat\", \"/tmp/x\"]",
        "changer",
        "committed:v1",
    ]);
    assert!(id.trim().starts_with("sha256:"), "{id}");
    assert_eq!(run(&daemon, "committed-d", "committed:v1", &[]), "hi\n");
    assert_eq!(
        run(
            &daemon,
            "committed-e",
            "committed:v1",
            &["sh", "-c", "test -e /etc/group || echo gone"]
        ),
        "gone\n"
    );

    let export = daemon
        .command()
        .args(["export", "changer"])
        .output()
        .unwrap();
    assert!(export.status.success(), "{export:?}");
    let names = tar_names(&export.stdout);
    for want in ["tmp/x", "bin/busybox", "var/www/index.html"] {
        assert!(
            names.iter().any(|n| n.trim_start_matches("./") == want),
            "{want} not in the export"
        );
    }
    assert!(!names.iter().any(|n| n.ends_with("etc/group")));
}

#[test]
fn hostile_contexts_are_refused_or_contained() {
    let daemon = Daemon::start();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim");
    // A `../` name: refused. Written by Python's tarfile, which (unlike the tar crate)
    // writes such names as asked.
    let script = format!(
        "import io,sys,tarfile\nb=io.BytesIO()\nt=tarfile.open(fileobj=b,mode='w')\n\
         def add(n,d):\n i=tarfile.TarInfo(n); i.size=len(d); t.addfile(i,io.BytesIO(d))\n\
         add('Dockerfile',b'FROM berth/hello\\nCOPY . /ctx/\\n')\n\
         add('../../../../../../..{}',b'bad')\nt.close()\nsys.stdout.buffer.write(b.getvalue())\n",
        victim.display()
    );
    let made = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let bytes = made.stdout;
    let (status, body) = http_build(&daemon, &bytes);
    assert!(status == 200 || status == 400, "{status} {body}");
    assert!(body.contains("error"), "{body}");
    assert!(!victim.exists());

    // An absolute symlink leading out, then a COPY through it: contained in the context.
    std::fs::write(outside.path().join("secret"), "host secret\n").unwrap();
    let ctx = context(&[(
        "Dockerfile",
        "FROM berth/hello\nCOPY link/secret /got\nRUN cat /got || true\n",
    )]);
    std::os::unix::fs::symlink(outside.path(), ctx.path().join("link")).unwrap();
    let (out, _) = build(&daemon, ctx.path(), &["-t", "sym"]);
    assert!(!out.contains("host secret"), "{out}");
}

fn http_build(daemon: &Daemon, tar: &[u8]) -> (u16, String) {
    daemon.http("POST", "/v1.50/build?t=hostile", tar)
}

/// The names in a tar stream, by the system's tar.
fn tar_names(bytes: &[u8]) -> Vec<String> {
    use std::io::Write;
    let mut child = std::process::Command::new("tar")
        .arg("t")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}
