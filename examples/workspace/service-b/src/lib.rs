//! Service B (its WebSocket tests live in `tests/`).
