//! Benchmarks live in `benches/`; run them with `cargo bench -p ws-test-benches`.
//!
//! The library holds [`rss_kib`], which the memory figures read, and the [`floor`]: the work of a ws-test test written by hand on bare tokio + hyper +
//! tokio-tungstenite, which `side_by_side` measures ws-test against in the same run.

pub mod floor;

/// This process's resident memory in KiB (`/proc/self/statm`; 0 where it cannot be read).
pub fn rss_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .unwrap_or(0);
    pages * 4
}
