//! Spawning, with one future type for every task.
//!
//! tokio compiles its task machinery (the cell, the harness, the waker vtable, the join handle) once per future
//! type spawned. Boxed behind one `dyn Future` type, every task of the runtime shares one copy: less code in every
//! user's debug build, for one allocation per spawn.

use std::future::Future;
use std::pin::Pin;

use tokio::task::{JoinHandle, JoinSet};

/// The one future type the runtime spawns.
pub type TaskFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Spawns `future` on the current runtime, boxed.
pub fn spawn(future: impl Future<Output = ()> + Send + 'static) -> JoinHandle<()> {
    tokio::spawn(Box::pin(future) as TaskFuture)
}

/// Spawns `future` into `set`, boxed.
pub fn spawn_into(set: &mut JoinSet<()>, future: impl Future<Output = ()> + Send + 'static) {
    set.spawn(Box::pin(future) as TaskFuture);
}
