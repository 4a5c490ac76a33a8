//! `shutdown`: answer Ok, then stop the containers, the engine, and the VM.

use std::sync::atomic::Ordering;

use berth_protocol::Response;
use tokio::io::AsyncWriteExt;

use super::{reply, Conn, Context, Stream};

pub async fn shutdown<S: Stream>(
    mut conn: Conn<S>,
    ctx: &std::sync::Arc<Context>,
    stop_timeout_secs: u32,
) -> std::io::Result<()> {
    let Some(vm) = &ctx.vm else {
        let message = "shutdown powers the VM off; this agent runs natively and does not stop \
                       the machine"
            .to_string();
        return reply(&mut conn, &Response::Error { message }).await;
    };
    // Answer first: the host then watches the VM process exit.
    reply(&mut conn, &Response::Ok).await?;
    let _ = conn.shutdown().await;
    if vm.shutting_down.swap(true, Ordering::SeqCst) {
        return Ok(()); // already under way
    }
    crate::init::shutdown::power_down(ctx.clone(), stop_timeout_secs).await
}
