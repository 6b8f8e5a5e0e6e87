//! The runtime's log lines, through `tracing` when the `tracing` feature is on (the `ws-test` binary turns it on),
//! and compiled out when it is off: a test that installs no subscriber sees nothing either way, and the default
//! build leaves out tracing's crates and each call site's static metadata.
//!
//! Call sites use `tracing`'s own syntax (`logging::info!(connection_id = %id, "connection opened")`; `warn!` is `warning!` here, as `warn` is also
//! a built-in attribute's name). Without the
//! feature the values are still type-checked and borrowed (in code that never runs), so a variable a log line
//! reads is used in both builds.

/// Without `tracing`: borrows each field's value and formats the message in a branch that never runs.
#[cfg(not(feature = "tracing"))]
macro_rules! sink {
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
pub(crate) use sink;

#[cfg(feature = "tracing")]
macro_rules! trace {
    ($($arguments:tt)*) => { ::tracing::trace!($($arguments)*) };
}
#[cfg(not(feature = "tracing"))]
macro_rules! trace {
    ($($arguments:tt)*) => {
        if false {
            $crate::logging::sink!($($arguments)*);
        }
    };
}

#[cfg(feature = "tracing")]
macro_rules! debug {
    ($($arguments:tt)*) => { ::tracing::debug!($($arguments)*) };
}
#[cfg(not(feature = "tracing"))]
macro_rules! debug {
    ($($arguments:tt)*) => {
        if false {
            $crate::logging::sink!($($arguments)*);
        }
    };
}

#[cfg(feature = "tracing")]
macro_rules! info {
    ($($arguments:tt)*) => { ::tracing::info!($($arguments)*) };
}
#[cfg(not(feature = "tracing"))]
macro_rules! info {
    ($($arguments:tt)*) => {
        if false {
            $crate::logging::sink!($($arguments)*);
        }
    };
}

#[cfg(feature = "tracing")]
macro_rules! warning {
    ($($arguments:tt)*) => { ::tracing::warn!($($arguments)*) };
}
#[cfg(not(feature = "tracing"))]
macro_rules! warning {
    ($($arguments:tt)*) => {
        if false {
            $crate::logging::sink!($($arguments)*);
        }
    };
}

#[cfg(feature = "tracing")]
macro_rules! error {
    ($($arguments:tt)*) => { ::tracing::error!($($arguments)*) };
}
#[cfg(not(feature = "tracing"))]
macro_rules! error {
    ($($arguments:tt)*) => {
        if false {
            $crate::logging::sink!($($arguments)*);
        }
    };
}

#[allow(unused_imports, reason = "each level is used somewhere only under some features")]
pub(crate) use {debug, error, info, trace, warning};
