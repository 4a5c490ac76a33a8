//! The client against a scripted agent on an in-memory pipe (the real agent is tested in
//! the VM tests; these pin the wire handling).

use berth_protocol::frame::Kind;
use berth_protocol::{from_line, to_line, ExitStatus, PortAction, Proto};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::*;
use crate::transport::ConnectFuture;

/// Each connection is served by `script` on the other end of a duplex pipe.
#[derive(Debug)]
struct Scripted(fn(DuplexStream) -> Pin<Box<dyn std::future::Future<Output = ()> + Send>>);

impl Transport for Scripted {
    fn connect(&self, port: u32) -> ConnectFuture<'_> {
        assert_eq!(port, CONTROL_PORT);
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        tokio::spawn((self.0)(theirs));
        Box::pin(async move { Ok(Box::new(ours) as BoxStream) })
    }
}

async fn request(s: &mut DuplexStream) -> Request {
    from_line(&read_line_opt(s).await.unwrap().unwrap()).unwrap()
}

fn client(
    script: fn(DuplexStream) -> Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
) -> AgentClient {
    AgentClient::new(Arc::new(Scripted(script))).with_timeout(Duration::from_secs(2))
}

fn hello(protocol: u32) -> Response {
    Response::Hello(Hello {
        agent_version: "0.1.0".into(),
        protocol,
        capabilities: vec!["exec".into()],
        kernel: "Linux 6.1".into(),
        uptime_ms: 1,
    })
}

#[tokio::test]
async fn hello_checks_the_protocol_version() {
    let ok = client(|mut s| {
        Box::pin(async move {
            assert!(matches!(
                request(&mut s).await,
                Request::Hello {
                    protocol: PROTOCOL_VERSION,
                    ..
                }
            ));
            s.write_all(&to_line(&hello(PROTOCOL_VERSION)))
                .await
                .unwrap();
        })
    });
    assert_eq!(ok.hello().await.unwrap().protocol, PROTOCOL_VERSION);

    let old = client(|mut s| {
        Box::pin(async move {
            request(&mut s).await;
            s.write_all(&to_line(&hello(PROTOCOL_VERSION + 1)))
                .await
                .unwrap();
        })
    });
    let err = old.hello().await.unwrap_err();
    assert!(matches!(err, AgentError::ProtocolMismatch { .. }), "{err}");
}

#[tokio::test]
async fn errors_silence_and_closing_are_distinct() {
    let refused = client(|mut s| {
        Box::pin(async move {
            request(&mut s).await;
            s.write_all(&to_line(&Response::Error {
                message: "busy".into(),
            }))
            .await
            .unwrap();
        })
    });
    assert!(matches!(refused.shutdown(5).await, Err(AgentError::Refused(m)) if m == "busy"));

    let silent = client(|mut s| {
        Box::pin(async move {
            request(&mut s).await;
            tokio::time::sleep(Duration::from_secs(30)).await;
        })
    })
    .with_timeout(Duration::from_millis(200));
    assert!(matches!(silent.health().await, Err(AgentError::Timeout(_))));

    let closed = client(|s| Box::pin(async move { drop(s) }));
    assert!(matches!(
        closed.time_sync().await,
        Err(AgentError::Protocol(_))
    ));
}

#[tokio::test]
async fn exec_carries_stdin_stdout_stderr_and_the_exit() {
    let agent = client(|mut s| {
        Box::pin(async move {
            assert!(matches!(request(&mut s).await, Request::Exec(_)));
            s.write_all(&to_line(&Response::Ok)).await.unwrap();
            // Echo stdin to stdout until StdinClosed, then report on stderr and exit 3.
            let mut got = Vec::new();
            loop {
                let mut head = [0u8; 5];
                s.read_exact(&mut head).await.unwrap();
                let (kind, len) = berth_protocol::frame::check_header(head).unwrap();
                let mut payload = vec![0; len];
                s.read_exact(&mut payload).await.unwrap();
                match kind {
                    Kind::Stdin => got.extend(payload),
                    Kind::StdinClosed => break,
                    other => panic!("{other:?}"),
                }
            }
            let mut out = Vec::new();
            berth_protocol::frame::write(&mut out, Kind::Stdout, &got).unwrap();
            berth_protocol::frame::write(&mut out, Kind::Stderr, b"done").unwrap();
            let exit = serde_json::to_vec(&ExitStatus {
                code: 3,
                signal: None,
            })
            .unwrap();
            berth_protocol::frame::write(&mut out, Kind::Exit, &exit).unwrap();
            // Byte by byte: frames split across reads must reassemble.
            for b in out {
                s.write_all(&[b]).await.unwrap();
            }
        })
    });
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let io = ExecIo {
        stdin: Box::new(&b"hello vm"[..]),
        stdout: Box::new(&mut stdout),
        stderr: Box::new(&mut stderr),
        resize: None,
        signals: None,
    };
    let request = ExecRequest {
        command: vec!["cat".into()],
        env: vec![],
        cwd: None,
        tty: None,
    };
    let status = agent.exec(request, io).await.unwrap();
    assert_eq!(
        status,
        ExitStatus {
            code: 3,
            signal: None
        }
    );
    assert_eq!(stdout, b"hello vm");
    assert_eq!(stderr, b"done");
}

#[tokio::test]
async fn port_events_stream_until_the_agent_closes() {
    let agent = client(|mut s| {
        Box::pin(async move {
            assert_eq!(request(&mut s).await, Request::PortEvents);
            s.write_all(&to_line(&Response::Ok)).await.unwrap();
            for (action, snapshot) in [(PortAction::Added, true), (PortAction::Removed, false)] {
                let event = PortEvent {
                    action,
                    snapshot,
                    container_id: "c1".into(),
                    proto: Proto::Tcp,
                    host_ip: "127.0.0.1".into(),
                    host_port: 8080,
                    container_port: 80,
                };
                s.write_all(&to_line(&event)).await.unwrap();
            }
        })
    });
    let events: Vec<_> = agent.port_events().await.unwrap().collect().await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].as_ref().unwrap().action, PortAction::Added);
    assert!(!events[1].as_ref().unwrap().snapshot);
}
