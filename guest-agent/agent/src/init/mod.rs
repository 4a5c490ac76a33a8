//! `berth-agent` as the VM's PID 1: filesystems, modules, the data disk, the network,
//! then the engine (supervised) and the control service on vsock. Keeps itself small (one
//! thread, a current-thread runtime) and never exits: fatal errors power the VM off.

pub mod cmdline;
pub mod console;
mod demo_image;
pub mod disk;
mod engine_config;
mod modules;
mod mounts;
mod network;
pub mod power;
pub mod reaper;
pub mod shares;
pub mod shutdown;
pub mod supervisor;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;

use crate::control::{Context, Vm};

/// PID 1's whole life.
pub fn main() -> ! {
    power::install_panic_hook();
    match run() {
        Ok(never) => match never {},
        Err(e) => {
            let reason: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            power::fatal(&reason.join(": "))
        }
    }
}

fn run() -> anyhow::Result<std::convert::Infallible> {
    // The kernel gives init almost no environment; children inherit this one.
    std::env::set_var(
        "PATH",
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    );
    mounts::leave_rootfs()?;
    mounts::mount_all()?;
    console::attach();
    let cmdline = cmdline::read();
    for ignored in &cmdline.ignored {
        console::warn(&format!("ignoring the kernel option {ignored}"));
    }
    // Only what the control service needs comes before it answers: the host waits for
    // hello, and every module loaded before it (netfilter, ext4, overlay...) is boot time
    // the user watches. The rest follows while the host already talks to the agent.
    let early = modules::load(modules::Stage::Early);
    console::info(&format!("{early} kernel modules for vsock loaded"));
    std::fs::create_dir_all("/run/berth").context("Cannot create /run/berth")?;
    // Two workers, one per vCPU: a forwarded stream copies each direction on its own
    // (control/forward.rs).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("Cannot start the async runtime")?;
    runtime.block_on(serve(cmdline))
}

async fn serve(cmdline: cmdline::Cmdline) -> anyhow::Result<std::convert::Infallible> {
    let children = reaper::Children::new();
    tokio::spawn(children.clone().run());
    let program = std::env::current_exe().context("Cannot find this program's path")?;
    let supervisor = supervisor::Supervisor::new(children.clone(), program);
    let ctx = Arc::new(Context {
        docker_socket: supervisor::DOCKER_SOCKET.into(),
        children,
        vm: Some(Vm {
            supervisor: supervisor.clone(),
            disk: OnceLock::new(),
            shutting_down: AtomicBool::new(false),
        }),
    });
    tokio::spawn(power_down_on_signal(ctx.clone()));
    let address =
        tokio_vsock::VsockAddr::new(tokio_vsock::VMADDR_CID_ANY, berth_protocol::CONTROL_PORT);
    let listener = tokio_vsock::VsockListener::bind(address).with_context(|| {
        format!(
            "Cannot listen on vsock port {}",
            berth_protocol::CONTROL_PORT
        )
    })?;
    console::info(&format!(
        "control service on vsock port {}",
        berth_protocol::CONTROL_PORT
    ));
    // Tell the host we listen (it would otherwise find out by polling).
    tokio::spawn(async {
        let host =
            tokio_vsock::VsockAddr::new(berth_protocol::HOST_CID, berth_protocol::HOST_READY_PORT);
        if let Err(e) = tokio_vsock::VsockStream::connect(host).await {
            console::info(&format!("the host did not take the ready signal ({e})"));
        }
    });
    let background = ctx.clone();
    tokio::spawn(async move {
        if let Err(e) = bring_up(background, cmdline).await {
            power::fatal(&console::chain(e.as_ref()));
        }
    });
    crate::control::serve(listener, ctx).await;
    anyhow::bail!("the control service stopped")
}

/// The rest of the boot, behind the control service: modules, network, the data disk,
/// the shared folders, then the engine. Health reports the engine `starting` until it answers.
async fn bring_up(
    ctx: Arc<Context>,
    cmdline: cmdline::Cmdline,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let children = ctx.children.clone();
    let (disk, shared) = tokio::task::spawn_blocking(move || {
        let modules = modules::load(modules::Stage::Rest);
        console::info(&format!("{modules} more kernel modules loaded"));
        match network::configure(&cmdline) {
            Ok(nic) => console::info(&format!(
                "{nic}: {}/{} via {}",
                cmdline.ip, cmdline.prefix, cmdline.gateway
            )),
            // The engine and exec still work without a network; say it and go on.
            Err(e) => console::warn(&format!("network: {}", console::chain(&e))),
        }
        let disk = disk::prepare(cmdline.disk.as_deref(), &children)?;
        // After the modules (fuse, virtiofs), before the engine, which is told the list.
        let shared = shares::mount_all(&cmdline.shares);
        let path = Path::new(engine_config::DEFAULT_PATH);
        match engine_config::write(
            path,
            &cmdline.insecure_registries,
            &cmdline.registry_mirrors,
        ) {
            Ok(true) => console::info(&format!("registry settings in {}", path.display())),
            Ok(false) => {}
            Err(e) => console::warn(&format!("cannot write {}: {e}", path.display())),
        }
        Ok::<_, disk::DiskError>((disk, shared))
    })
    .await??;
    let Some(vm) = &ctx.vm else {
        return Ok(());
    };
    let _ = vm.disk.set(disk);
    // Boot-time code and data (mounting, formatting, module loading) are not needed again:
    // give their pages back before the long idle life of PID 1.
    berth_engine::monitor::sys::release_startup_pages();
    tokio::spawn(vm.supervisor.clone().run(shared));
    Ok(())
}

/// SIGTERM, SIGINT (ctrl-alt-del) or SIGUSR2 to PID 1 shut the VM down like the request.
async fn power_down_on_signal(ctx: Arc<Context>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut usr2)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::user_defined2()),
    ) else {
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = usr2.recv() => {}
    }
    if let Some(vm) = &ctx.vm {
        if vm
            .shutting_down
            .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
    }
    shutdown::power_down(ctx, 10).await
}
