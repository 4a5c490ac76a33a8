//! `berth-monitor`: one per container, started by the engine with its configuration in the
//! environment (see `berth_engine::monitor`). A program of its own rather than a mode of
//! `berth-agent` because every page of the binary it touches counts in its resident
//! memory, and there is one monitor per running container.

fn main() {
    // The container's first process is forked from the monitor: run from an unwritable
    // view of this binary first (CVE-2019-5736).
    if let Err(e) = berth_runtime::sealed::ensure_sealed(std::path::Path::new("/run/berth")) {
        eprintln!("berth-monitor: {e}");
        std::process::exit(125);
    }
    berth_engine::monitor::run_from_env();
}
