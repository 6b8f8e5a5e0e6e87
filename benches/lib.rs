//! Benchmarks live in `benches/`; run them with `cargo bench -p ws-test-benches`.
//!
//! The library holds the [`floor`]: the work of a ws-test test written by hand on bare tokio + hyper +
//! tokio-tungstenite, which `side_by_side` measures ws-test against in the same run.

pub mod floor;
