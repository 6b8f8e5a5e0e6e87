//! Service A (its WebSocket tests live in `tests/`).
