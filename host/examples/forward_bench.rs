//! The measuring half of `bench/forward/run` (which starts Berth, the echo servers, and does
//! the statistics and the docs). Three paths to an echo server, one client:
//!
//! - `published`: 127.0.0.1:PUBLISHED on the host, a port the daemon forwards to a
//!   container running `tests/fixtures/echo.c` (host TCP, the daemon, vsock, the agent,
//!   TCP and DNAT in the VM, the container);
//! - `vsock`: the agent's own `echo` over the same transport and framing (the ceiling: no
//!   daemon, no socket or container in the VM);
//! - `loopback`: 127.0.0.1:LOOPBACK on the host, the same echo server run natively.
//!
//! Throughput: MIB MiB written in 256 KiB writes (at most 8 MiB ahead of the echo) while the
//! echo is read back concurrently, timed until the last byte is back (bytes moved each way / time). Setup: CONNS short
//! connections one after another, each timed from connect to a one-byte echo back.
//! Every round runs each path once, in an order that rotates; one JSON line per sample.
//!
//! Usage: forward_bench RUN_DIR PUBLISHED LOOPBACK ROUNDS MIB CONNS

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{ensure, Context as _};
use berth_host::agent::AgentClient;
use berth_host::backend::qemu::{QemuBackend, QemuOptions};
use berth_host::backend::Backend;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

const CHUNK: usize = 256 * 1024;
/// The most bytes in flight (written, not yet echoed back): every path carries the same
/// steady stream, and a peer that holds bytes back shows as a stall, not as buffering.
const WINDOW: usize = 8 * 1024 * 1024;
const PATHS: [&str; 3] = ["published", "vsock", "loopback"];

struct Paths {
    agent: AgentClient,
    published: u16,
    loopback: u16,
}

impl Paths {
    async fn open(&self, path: &str) -> anyhow::Result<Box<dyn Duplex>> {
        Ok(match path {
            "published" => tcp(self.published).await?,
            "loopback" => tcp(self.loopback).await?,
            _ => Box::new(self.agent.echo().await?),
        })
    }
}

trait Duplex: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Duplex for T {}

async fn tcp(port: u16) -> anyhow::Result<Box<dyn Duplex>> {
    let stream = TcpStream::connect(("127.0.0.1", port)).await?;
    stream.set_nodelay(true)?;
    Ok(Box::new(stream))
}

/// A sample that takes longer is a stall, reported as one (with the bytes that came back).
const STALL: std::time::Duration = std::time::Duration::from_secs(120);

/// Writes `total` bytes and reads the echo back at the same time; the elapsed ms.
async fn throughput(stream: Box<dyn Duplex>, total: usize) -> anyhow::Result<f64> {
    let echoed = std::cell::Cell::new(0usize);
    match tokio::time::timeout(STALL, echo_through(stream, total, &echoed)).await {
        Ok(result) => result,
        Err(_) => anyhow::bail!(
            "stalled: {} of {total} bytes echoed after {STALL:?}",
            echoed.get()
        ),
    }
}

async fn echo_through(
    stream: Box<dyn Duplex>,
    total: usize,
    echoed: &std::cell::Cell<usize>,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let (mut rd, mut wr) = tokio::io::split(stream);
    // `echoed`: bytes read back so far; the writer stays at most WINDOW ahead of it.
    let progress = tokio::sync::Notify::new();
    let writer = async {
        let chunk: Vec<u8> = (0..CHUNK).map(|i| (i % 251) as u8).collect();
        let mut sent = 0;
        while sent < total {
            while sent - echoed.get() >= WINDOW {
                progress.notified().await;
            }
            let n = CHUNK.min(total - sent);
            wr.write_all(&chunk[..n]).await?;
            sent += n;
        }
        wr.shutdown().await?;
        anyhow::Ok(())
    };
    let reader = async {
        let mut buf = vec![0u8; CHUNK];
        let mut got = 0usize;
        let mut check = 0u64;
        loop {
            let n = rd.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            // Touch the bytes (a sum), so an echo that returned garbage shows.
            check += buf[..n].iter().map(|&b| u64::from(b)).sum::<u64>();
            got += n;
            echoed.set(got);
            progress.notify_one();
        }
        anyhow::Ok((got, check))
    };
    let ((), (got, check)) = tokio::try_join!(writer, reader)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    ensure!(got == total, "{got} of {total} bytes came back");
    let expected: u64 = (0..total).map(|i| ((i % CHUNK) % 251) as u64).sum();
    ensure!(
        check == expected,
        "the echoed bytes differ from the sent ones"
    );
    Ok(ms)
}

/// One short connection: connect, one byte out and back, close; the elapsed ms.
async fn short_connection(paths: &Paths, path: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut stream = paths.open(path).await?;
    stream.write_all(b"x").await?;
    let mut byte = [0u8; 1];
    stream.read_exact(&mut byte).await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    ensure!(&byte == b"x", "{path}: the echo answered {byte:?}");
    stream.shutdown().await?;
    // Until the server's end: the connection is really done before the next one starts.
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await?;
    Ok(ms)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    ensure!(
        args.len() == 6,
        "usage: forward_bench RUN_DIR PUBLISHED LOOPBACK ROUNDS MIB CONNS"
    );
    let run_dir = PathBuf::from(&args[0]);
    let published: u16 = args[1].parse().context("PUBLISHED")?;
    let loopback: u16 = args[2].parse().context("LOOPBACK")?;
    let rounds: usize = args[3].parse().context("ROUNDS")?;
    let mib: usize = args[4].parse().context("MIB")?;
    let conns: usize = args[5].parse().context("CONNS")?;
    // One thread: the client should take as little of the machine's two cores from the
    // daemon and the VM as it can, the same on every path.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // The daemon's VM, reached the way the daemon reaches it.
        let backend = QemuBackend::new(&run_dir, QemuOptions::from_env());
        let agent = AgentClient::new(backend.transport()?);
        agent.hello().await.context("the agent of the running VM")?;
        let paths = Paths {
            agent,
            published,
            loopback,
        };
        // Warm-up: every path works and its first-use costs are paid.
        for path in PATHS {
            throughput(paths.open(path).await?, 4 << 20)
                .await
                .with_context(|| format!("{path}: warm-up"))?;
            short_connection(&paths, path).await?;
        }
        for round in 0..rounds {
            for i in 0..PATHS.len() {
                let path = PATHS[(round + i) % PATHS.len()];
                let ms = throughput(paths.open(path).await?, mib << 20)
                    .await
                    .with_context(|| format!("{path}: throughput"))?;
                println!(
                    "{}",
                    serde_json::json!({"kind": "throughput", "path": path, "round": round,
                                       "bytes": mib << 20, "ms": ms})
                );
            }
        }
        // Setup latency: CONNS connections per path, in blocks of 100 that alternate.
        let block = 100.min(conns.max(1));
        let mut done = 0;
        while done < conns {
            let n = block.min(conns - done);
            for i in 0..PATHS.len() {
                let path = PATHS[(done / block + i) % PATHS.len()];
                let mut samples = Vec::with_capacity(n);
                for _ in 0..n {
                    samples.push(short_connection(&paths, path).await?);
                }
                println!(
                    "{}",
                    serde_json::json!({"kind": "connect", "path": path, "ms": samples})
                );
            }
            done += n;
        }
        anyhow::Ok(())
    })
}
