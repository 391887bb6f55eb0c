//! Headless Chromium opens the demo page and its `EventSource` receives the
//! events, in order, across reconnects.
//!
//! The demo server runs in-process on an ephemeral loopback port. Chromium
//! is driven over the DevTools protocol: the test reads `window.sse`, which
//! the page fills from its `EventSource`. The page's query string makes
//! every connection end after a few events (`close_after`) and the browser
//! come back quickly (`retry`), with `Last-Event-ID`.
//!
//! Needs `chromium` (Debian's package; or set `SSE_CHROMIUM` to a Chromium
//! or Chrome binary). Without one the test passes with a message saying it
//! skipped, unless `SSE_BROWSER_TEST=required` (as in `.ci/run`), which makes
//! a missing browser a failure.

mod common;

use common::{expected, start};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::time::{sleep, timeout, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How many events the page must receive, and over at least how many
/// connections.
const EVENTS: usize = 30;
const CONNECTIONS: u64 = 4;

fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SSE_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

#[tokio::test]
async fn chromium_receives_every_event_across_reconnects() {
    let required = std::env::var("SSE_BROWSER_TEST").is_ok_and(|v| v == "required");
    let Some(chromium) = find_chromium() else {
        assert!(
            !required,
            "SSE_BROWSER_TEST=required but no chromium on PATH (apt-get install chromium)"
        );
        eprintln!(
            "SKIPPED chromium_receives_every_event_across_reconnects: no chromium on PATH \
             (apt-get install chromium, or set SSE_CHROMIUM; SSE_BROWSER_TEST=required makes this fail)"
        );
        return;
    };

    let profile = tempdir();
    let result = timeout(Duration::from_secs(90), run(&chromium, &profile)).await;
    let log = std::fs::read_to_string(profile.join("chromium.log")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&profile);
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("{e}\n--- chromium's stderr (tail) ---\n{}", tail(&log)),
        Err(_) => panic!(
            "browser test took over 90 s\n--- chromium's stderr ---\n{}",
            tail(&log)
        ),
    }
}

async fn run(chromium: &Path, profile: &Path) -> Result<(), String> {
    let server = start(common::demo::LINGER).await;
    let page = format!(
        "http://{}/?retry=100&interval_ms=40&close_after=5&heartbeat_ms=1000",
        server.addr
    );
    let mut browser = Browser::launch(chromium, profile, &page).await?;
    let outcome = browser.watch_page(&page).await;
    browser.close().await;
    let state = outcome?;

    let events = state["events"].as_array().ok_or("no events array")?;
    let opens = state["opens"].as_u64().unwrap_or(0);
    for (i, event) in events.iter().enumerate() {
        let id = i as u64 + 1;
        let (event_type, data) = expected(id);
        let got = (
            event["id"].as_str().unwrap_or_default(),
            event["type"].as_str().unwrap_or_default(),
            event["data"].as_str().unwrap_or_default(),
        );
        if got != (id.to_string().as_str(), event_type, data.as_str()) {
            return Err(format!(
                "event #{} was {got:?}, want id {id}, {event_type:?}, {data:?}; all: {events:?}",
                i + 1
            ));
        }
    }
    if events.len() < EVENTS || opens < CONNECTIONS {
        return Err(format!(
            "got {} events over {opens} connections, want {EVENTS} over {CONNECTIONS}: {state}",
            events.len()
        ));
    }
    eprintln!(
        "chromium received events 1..={} in order over {opens} connections ({} errors/reconnects)",
        events.len(),
        state["errors"]
    );
    Ok(())
}

/// A Chromium process and a DevTools session on its one page.
struct Browser {
    child: Child,
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl Browser {
    async fn launch(chromium: &Path, profile: &Path, url: &str) -> Result<Self, String> {
        let log = std::fs::File::create(profile.join("chromium.log")).map_err(|e| e.to_string())?;
        let child = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--disable-extensions",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", chromium.display()))?;

        // Chromium writes the port it chose and the browser's DevTools path.
        let port_file = profile.join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(30);
        let ws_url = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    break format!("ws://127.0.0.1:{port}{path}");
                }
            }
            if Instant::now() > deadline {
                return Err("chromium wrote no DevToolsActivePort within 30 s".into());
            }
            sleep(Duration::from_millis(100)).await;
        };
        let (ws, _) = tokio_tungstenite::connect_async(ws_url.as_str())
            .await
            .map_err(|e| format!("DevTools connection to {ws_url}: {e}"))?;
        Ok(Browser {
            child,
            ws,
            next_id: 0,
        })
    }

    /// Sends a DevTools command and waits for its answer.
    async fn call(
        &mut self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        self.ws
            .send(Message::text(command.to_string()))
            .await
            .map_err(|e| e.to_string())?;
        // Bounded by the caller's timeout; events in between are skipped.
        while let Some(message) = self.ws.next().await {
            let Message::Text(text) = message.map_err(|e| e.to_string())? else {
                continue;
            };
            let reply: Value = serde_json::from_str(text.as_str()).map_err(|e| e.to_string())?;
            if reply["id"] == json!(id) {
                if let Some(error) = reply.get("error") {
                    return Err(format!("{method}: {error}"));
                }
                return Ok(reply["result"].clone());
            }
        }
        Err("DevTools connection closed".into())
    }

    /// Attaches to the page showing `url` and polls its `window.sse` until
    /// it holds enough events over enough connections, or 45 s pass.
    async fn watch_page(&mut self, url: &str) -> Result<Value, String> {
        let deadline = Instant::now() + Duration::from_secs(45);
        let target = loop {
            let targets = self.call("Target.getTargets", json!({}), None).await?;
            let page = targets["targetInfos"].as_array().and_then(|all| {
                all.iter()
                    .find(|t| {
                        t["type"] == "page" && t["url"].as_str().is_some_and(|u| u.starts_with(url))
                    })
                    .map(|t| t["targetId"].clone())
            });
            if let Some(page) = page {
                break page;
            }
            if Instant::now() > deadline {
                return Err(format!("no page for {url}: {targets}"));
            }
            sleep(Duration::from_millis(100)).await;
        };
        let attached = self
            .call(
                "Target.attachToTarget",
                json!({ "targetId": target, "flatten": true }),
                None,
            )
            .await?;
        let session = attached["sessionId"]
            .as_str()
            .ok_or("no sessionId")?
            .to_owned();
        let mut state = Value::Null;
        while Instant::now() < deadline {
            let result = self
                .call(
                    "Runtime.evaluate",
                    json!({ "expression": "window.sse ? JSON.stringify(window.sse) : 'null'", "returnByValue": true }),
                    Some(&session),
                )
                .await?;
            state = serde_json::from_str(result["result"]["value"].as_str().unwrap_or("null"))
                .map_err(|e| e.to_string())?;
            let events = state["events"].as_array().map_or(0, Vec::len);
            if events >= EVENTS && state["opens"].as_u64().unwrap_or(0) >= CONNECTIONS {
                return Ok(state);
            }
            sleep(Duration::from_millis(200)).await;
        }
        Ok(state) // `run` reports what fell short
    }

    /// Asks Chromium to quit, then makes sure it has.
    async fn close(mut self) {
        let _ = timeout(
            Duration::from_secs(5),
            self.call("Browser.close", json!({}), None),
        )
        .await;
        if timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }
}

fn tempdir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir =
        std::env::temp_dir().join(format!("sse-codec-browser-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary profile directory");
    dir
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
