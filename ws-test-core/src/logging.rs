//! The runtime's log lines, through `tracing` when the `tracing` feature is on (the `ws-test` binary turns it on),
//! and compiled out when it is off: a test that installs no subscriber sees nothing either way, and the default
//! build leaves out tracing's crates and each call site's static metadata.
//!
//! A call site names tracing's level, then uses tracing's own syntax:
//! `logging::log!(info, connection_id = %id, "connection opened")`. Without the feature the values are still
//! type-checked and borrowed (in code that never runs), so a variable a log line reads is used in both builds.

/// Without `tracing`: borrows each field's value and formats the message in a branch that never runs.
#[cfg(not(feature = "tracing"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __ws_test_core_sink {
    () => {};
    ($message:literal $(, $argument:expr)* $(,)?) => {
        let _ = ::core::format_args!($message $(, $argument)*);
    };
    ($name:ident = % $value:expr $(, $($rest:tt)*)?) => { let _ = &$value; $($crate::logging::sink!($($rest)*);)? };
    ($name:ident = ? $value:expr $(, $($rest:tt)*)?) => { let _ = &$value; $($crate::logging::sink!($($rest)*);)? };
    ($name:ident = $value:expr $(, $($rest:tt)*)?) => { let _ = &$value; $($crate::logging::sink!($($rest)*);)? };
    ($name:ident $(, $($rest:tt)*)?) => { let _ = &$name; $($crate::logging::sink!($($rest)*);)? };
    (% $value:expr $(, $($rest:tt)*)?) => { let _ = &$value; $($crate::logging::sink!($($rest)*);)? };
    (? $value:expr $(, $($rest:tt)*)?) => { let _ = &$value; $($crate::logging::sink!($($rest)*);)? };
}
#[cfg(not(feature = "tracing"))]
#[doc(hidden)]
pub use crate::__ws_test_core_sink as sink;

/// A log line at `level` (`trace`, `debug`, `info`, `warn`, `error`), in tracing's syntax.
#[cfg(feature = "tracing")]
#[doc(hidden)]
#[macro_export]
macro_rules! __ws_test_core_log {
    ($level:ident, $($arguments:tt)*) => { $crate::logging::tracing::$level!($($arguments)*) };
}
/// A log line at `level`, compiled out: its values are only borrowed, in a branch that never runs.
#[cfg(not(feature = "tracing"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __ws_test_core_log {
    ($level:ident, $($arguments:tt)*) => {
        if false {
            $crate::logging::sink!($($arguments)*);
        }
    };
}
#[doc(hidden)]
pub use crate::__ws_test_core_log as log;

/// tracing, for the expansion of [`log!`] in the runtime's crates.
#[cfg(feature = "tracing")]
#[doc(hidden)]
pub use tracing;
