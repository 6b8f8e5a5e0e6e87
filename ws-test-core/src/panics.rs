//! Panic payloads in words: a handler, a task it spawned, a connection task or a test body that panicked is
//! reported with the text it panicked with.

use std::any::Any;

/// The text of a panic payload (`&str` or `String`), or a placeholder for other payloads.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic payload that is not a string)".to_owned()
    }
}

thread_local! {
    /// The message and place of the last panic on this thread, kept by [`install_hook`]'s hook.
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Installs (once per process) a panic hook that remembers each thread's last panic before calling the hook
/// that was there, so output is unchanged. Code that learns of a panic only from what it drops while unwinding
/// (a hosted app's WebSocket task, which ws-test did not spawn) reads the message with [`last_panic`].
pub fn install_hook() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let mut message = panic_message(info.payload());
            if let Some(location) = info.location() {
                message.push_str(&format!(" (at {location})"));
            }
            let _ = LAST_PANIC.try_with(|last| {
                if let Ok(mut last) = last.try_borrow_mut() {
                    *last = Some(message);
                }
            });
            previous(info);
        }));
    });
}

/// The last panic on this thread, as [`install_hook`]'s hook saw it.
pub fn last_panic() -> Option<String> {
    LAST_PANIC
        .try_with(|last| last.try_borrow().ok().and_then(|last| last.clone()))
        .ok()
        .flatten()
}
