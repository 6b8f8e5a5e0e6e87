//! What a `#[ws_test]` body may return, and [`TestResult`], the `Result` made for test bodies.

use std::fmt;

/// The `Result` of a test body: `?` converts every runtime [`Error`](crate::Error) and any other
/// `std::error::Error` into [`TestError`].
pub type TestResult<T = ()> = Result<T, TestError>;

/// Any error a test body hit, kept with its message and its chain of causes.
///
/// Its `Debug` is the message and the causes, so a failed test reads as sentences.
pub struct TestError {
    inner: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl TestError {
    /// A test error with this message (for `return Err(TestError::msg("..."))`).
    pub fn msg(message: impl fmt::Display) -> Self {
        TestError {
            inner: message.to_string().into(),
        }
    }

    /// The wrapped error.
    pub fn inner(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.inner.as_ref()
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for TestError {
    fn from(error: E) -> Self {
        TestError { inner: Box::new(error) }
    }
}

impl fmt::Display for TestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl fmt::Debug for TestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner)?;
        let mut source = self.inner.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            // Runtime errors already quote their cause; do not say it twice.
            if !self.inner.to_string().contains(&text) {
                write!(f, "\ncaused by: {text}")?;
            }
            source = cause.source();
        }
        Ok(())
    }
}

/// What a `#[ws_test]` body may return: `()` or `Result<(), E>` with `E: Debug`.
#[diagnostic::on_unimplemented(
    message = "a `#[ws_test]` function must return `()` or `Result<(), E>` with `E: Debug`, not `{Self}`",
    label = "this return type",
    note = "`ws_test_runtime::prelude::TestResult` is a `Result` that `?` converts every error into"
)]
pub trait TestOutcome {
    /// `Ok` when the body passed, else the failure in words.
    fn into_outcome(self) -> Result<(), String>;
}

impl TestOutcome for () {
    fn into_outcome(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: fmt::Debug> TestOutcome for Result<(), E> {
    fn into_outcome(self) -> Result<(), String> {
        self.map_err(|error| format!("{error:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn question_mark_converts_runtime_and_io_errors() {
        fn body() -> TestResult {
            let error = crate::Error::Config("a setting is off".into());
            Err(error)?
        }
        assert_eq!(
            format!("{:?}", body().unwrap_err()),
            "invalid configuration: a setting is off"
        );
        let io: TestResult = Err(std::io::Error::other("disk gone").into());
        assert_eq!(io.into_outcome().unwrap_err(), "disk gone");
        assert_eq!(().into_outcome(), Ok(()));
        assert_eq!(Err::<(), _>("plain").into_outcome().unwrap_err(), "\"plain\"");
        assert_eq!(TestError::msg("by hand").to_string(), "by hand");
    }
}
