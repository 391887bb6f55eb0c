//! Headless Chromium driven over the DevTools protocol: open a page, read a
//! value of it. The harness of `tests/browser.rs`, made general for the
//! fleet's browser test.

#![allow(dead_code)]

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

/// `SSE_CHROMIUM`, else `chromium` or `chromium-browser` on `PATH`.
pub(crate) fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SSE_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
        .find(|p| p.is_file())
}

/// A Chromium process and a DevTools session.
#[derive(Debug)]
pub(crate) struct Browser {
    child: Child,
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// The attached page's session.
    session: Option<String>,
}

impl Browser {
    /// Starts headless Chromium on `url` with its profile (and its stderr,
    /// `chromium.log`) in `profile`, and connects to its DevTools.
    pub(crate) async fn launch(chromium: &Path, profile: &Path, url: &str) -> Result<Self, String> {
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
            session: None,
        })
    }

    /// Sends a DevTools command and waits for its answer.
    async fn call(&mut self, method: &str, params: Value, page: bool) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({ "id": id, "method": method, "params": params });
        if page {
            command["sessionId"] = json!(self.session.as_deref().ok_or("no page attached")?);
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

    /// Attaches to the page whose URL starts with `url`, waiting up to 30 s
    /// for it to exist.
    pub(crate) async fn attach(&mut self, url: &str) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let target = loop {
            let targets = self.call("Target.getTargets", json!({}), false).await?;
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
                false,
            )
            .await?;
        let session = attached["sessionId"].as_str().ok_or("no sessionId")?;
        self.session = Some(session.to_owned());
        Ok(())
    }

    /// `JSON.stringify(expression)` evaluated in the attached page, parsed
    /// (`null` when it throws or is undefined).
    pub(crate) async fn read_json(&mut self, expression: &str) -> Result<Value, String> {
        let wrapped = format!("(() => {{ try {{ return JSON.stringify({expression}) ?? 'null'; }} catch (e) {{ return 'null'; }} }})()");
        let result = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": wrapped, "returnByValue": true }),
                true,
            )
            .await?;
        serde_json::from_str(result["result"]["value"].as_str().unwrap_or("null"))
            .map_err(|e| e.to_string())
    }

    /// Asks Chromium to quit, then makes sure it has.
    pub(crate) async fn close(mut self) {
        let _ = timeout(
            Duration::from_secs(5),
            self.call("Browser.close", json!({}), false),
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

/// The last 40 lines of `log`.
pub(crate) fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
