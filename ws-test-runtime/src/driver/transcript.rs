//! Evidence of a failed test: the report and every client's history, kept under `target/ws-test/`.

use std::path::{Path, PathBuf};

use crate::history::History;

/// Where transcripts go: `$CARGO_TARGET_DIR/ws-test`, else `target/ws-test` next to the test binary
/// (`target/debug/deps/…`), else the temporary directory.
pub(crate) fn directory() -> PathBuf {
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("ws-test");
    }
    let from_exe = std::env::current_exe().ok().and_then(|exe| {
        let deps = exe.parent()?;
        (deps.file_name()? == "deps")
            .then(|| deps.parent()?.parent().map(Path::to_path_buf))
            .flatten()
    });
    from_exe.unwrap_or_else(std::env::temp_dir).join("ws-test")
}

/// A file name from the test path, with nextest's attempt number (`NEXTEST_ATTEMPT`) when it runs under nextest.
pub(crate) fn file_stem(test: &str) -> String {
    stem_for(test, std::env::var("NEXTEST_ATTEMPT").ok().as_deref())
}

fn stem_for(test: &str, attempt: Option<&str>) -> String {
    let mut stem: String = test
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '.'
            }
        })
        .collect();
    while stem.contains("..") {
        stem = stem.replace("..", ".");
    }
    if let Some(attempt) = attempt {
        stem.push_str(&format!(".attempt-{attempt}"));
    }
    stem
}

/// Writes `<stem>.log` (the report and each client's timeline) and `<stem>.client-N.jsonl` (each history as
/// JSON Lines); returns the path of the log, or why it could not be written.
pub(crate) fn write(test: &str, report: &str, histories: &[History]) -> Result<PathBuf, String> {
    let directory = directory();
    std::fs::create_dir_all(&directory).map_err(|error| format!("cannot create {}: {error}", directory.display()))?;
    let stem = file_stem(test);
    let mut log = format!("test: {test}\n\n{report}\n");
    for (number, history) in histories.iter().enumerate() {
        log.push_str(&format!(
            "\nclient {number}: every frame in and out\n{}",
            history.timeline()
        ));
        let lines = directory.join(format!("{stem}.client-{number}.jsonl"));
        std::fs::write(&lines, history.to_json_lines())
            .map_err(|error| format!("cannot write {}: {error}", lines.display()))?;
    }
    let path = directory.join(format!("{stem}.log"));
    std::fs::write(&path, log).map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::stem_for;

    #[test]
    fn stems_are_safe_file_names() {
        assert_eq!(
            stem_for("workspace::macro_tests::chat_flow", None),
            "workspace.macro_tests.chat_flow"
        );
        assert_eq!(stem_for("a/b c", None), "a.b.c");
    }

    #[test]
    fn stems_name_nextest_attempts() {
        assert_eq!(
            stem_for("workspace::chat_flow", Some("2")),
            "workspace.chat_flow.attempt-2"
        );
    }
}
