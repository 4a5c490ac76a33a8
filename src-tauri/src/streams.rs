//! The registry of running streams (logs, stats, events, engine watch, terminals'
//! output). A stream is a task that sends on a `tauri::ipc::Channel`; its id goes to the
//! UI, which ends it with `stream_cancel`. Streams remember their window so a closed
//! window's streams end with it (a channel to a dead webview would otherwise keep a
//! follow-mode read open for ever).

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use tokio::task::AbortHandle;

pub type StreamId = u32;

#[derive(Debug, Default, Clone)]
pub struct Streams {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next: AtomicU32,
    tasks: Mutex<HashMap<StreamId, Entry>>,
}

#[derive(Debug)]
struct Entry {
    window: String,
    abort: AbortHandle,
}

impl Streams {
    /// A fresh id, unique across streams and terminals.
    pub fn next_id(&self) -> StreamId {
        self.inner.next.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Runs `task` as stream `id` of `window`; it leaves the registry when it ends.
    pub fn spawn<F>(&self, id: StreamId, window: &str, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let inner = self.inner.clone();
        // The lock is held across the spawn so a task that ends at once cannot remove
        // its entry before it was inserted.
        let mut tasks = self.inner.tasks.lock().expect("streams lock");
        let handle = tauri::async_runtime::spawn(async move {
            task.await;
            inner.tasks.lock().expect("streams lock").remove(&id);
        });
        tasks.insert(
            id,
            Entry {
                window: window.to_string(),
                abort: handle.inner().abort_handle(),
            },
        );
    }

    /// Ends a stream; false when it had ended already.
    pub fn cancel(&self, id: StreamId) -> bool {
        let entry = self.inner.tasks.lock().expect("streams lock").remove(&id);
        entry.map(|e| e.abort.abort()).is_some()
    }

    /// Ends every stream of a window; the ids it ended.
    pub fn cancel_window(&self, window: &str) -> Vec<StreamId> {
        let mut tasks = self.inner.tasks.lock().expect("streams lock");
        let mut ended = Vec::new();
        tasks.retain(|id, e| {
            let keep = e.window != window;
            if !keep {
                e.abort.abort();
                ended.push(*id);
            }
            keep
        });
        ended
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.inner.tasks.lock().expect("streams lock").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn streams_end_by_id_by_window_and_by_themselves() {
        let streams = Streams::default();
        let forever = || std::future::pending::<()>();
        let a = streams.next_id();
        let b = streams.next_id();
        let c = streams.next_id();
        assert!(a != b && b != c);
        streams.spawn(a, "main", forever());
        streams.spawn(b, "main", forever());
        streams.spawn(c, "other", async {});
        // The finished one removes itself.
        for _ in 0..100 {
            if streams.len() == 2 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(streams.len(), 2);
        assert!(streams.cancel(a));
        assert!(!streams.cancel(a));
        assert_eq!(streams.cancel_window("main"), vec![b]);
        assert_eq!(streams.len(), 0);
    }
}
