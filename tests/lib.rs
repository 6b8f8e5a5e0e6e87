//! Shared helpers for the workspace-level tests live in the test target itself.
