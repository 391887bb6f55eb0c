//! Runs the `reqwest` and `llm` examples as a user would and checks what
//! they print.
//!
//! The examples are built once, with `cargo build` (cargo's JSON messages
//! name each binary), then run with a timeout. `cargo test` has released
//! the build directory's lock by the time tests run, so the nested build
//! does not wait on it. It builds with the default features; when the test
//! itself was built with others (`--all-features`), that rebuilds this
//! crate and the two examples, a few seconds.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// How long a built example may run.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// The binaries of the examples under test, by name.
fn examples() -> &'static Result<Vec<(String, PathBuf)>, String> {
    static BUILT: OnceLock<Result<Vec<(String, PathBuf)>, String>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let mut cargo = Command::new(env!("CARGO"));
        let build = "build --quiet --message-format=json-render-diagnostics \
                     -p sse-codec-tokio --example llm --example reqwest";
        cargo.args(build.split_whitespace());
        let out = (cargo.stderr(Stdio::inherit()).output()).map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("cargo build failed: {}", out.status));
        }
        let mut built = Vec::new();
        for line in out.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let message: serde_json::Value =
                serde_json::from_slice(line).map_err(|e| e.to_string())?;
            if message["target"]["kind"][0] != "example" {
                continue;
            }
            if let (Some(name), Some(exe)) = (
                message["target"]["name"].as_str(),
                message["executable"].as_str(),
            ) {
                built.push((name.to_owned(), PathBuf::from(exe)));
            }
        }
        Ok(built)
    })
}

/// Runs example `name` with `args`; its stdout, if it exits with success
/// within [`RUN_TIMEOUT`].
async fn run(name: &str, args: &[&str]) -> String {
    let built = examples().as_ref().expect("the examples build");
    let (_, exe) = (built.iter().find(|(n, _)| n == name)).expect("cargo names the binary");
    let child = tokio::process::Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = (tokio::time::timeout(RUN_TIMEOUT, child).await)
        .unwrap_or_else(|_| panic!("{name} ran longer than {RUN_TIMEOUT:?}"))
        .expect("the example starts");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
}

#[tokio::test]
async fn llm_example_assembles_the_completion() {
    let stdout = run("llm", &[]).await;
    let full = stdout.lines().find_map(|l| l.strip_prefix("full text: "));
    assert_eq!(
        full,
        Some("Hello, wörld! Tokens arrive as \"SSE\" events: naïve café → 日本語 🚀"),
        "{stdout}"
    );
    // One token holds escaped quotes; the others are borrowed, not copied.
    assert!(
        stdout.contains("tokens: 15 borrowed from the events, 1 unescaped into a copy"),
        "{stdout}"
    );
}

#[tokio::test]
async fn reqwest_example_refreshes_the_token_and_resumes() {
    let stdout = run("reqwest", &["--self-test"]).await;
    let connecting: Vec<&str> = (stdout.lines())
        .filter(|l| l.starts_with("connecting: "))
        .collect();
    assert_eq!(
        connecting,
        [
            "connecting: token #1",
            "connecting: token #2, Last-Event-ID 2",
            "connecting: token #3, Last-Event-ID 4",
        ],
        "{stdout}"
    );
    let ids: Vec<&str> = (stdout.lines())
        .filter_map(|l| l.strip_prefix("  #")?.split(' ').next())
        .collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5", "6"], "{stdout}");
    assert!(
        stdout.ends_with(
            "self-test passed: 6 events in order over 3 connections, a new token each\n"
        ),
        "{stdout}"
    );
}
