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

#[path = "common/chromium.rs"]
mod chromium;
mod common;

use chromium::{find_chromium, tail, Browser};
use common::{expected, start};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::time::{sleep, timeout, Instant};

/// How many events the page must receive, and over at least how many
/// connections.
const EVENTS: usize = 30;
const CONNECTIONS: u64 = 4;

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
    let outcome = watch_page(&mut browser, &page).await;
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

/// Attaches to the page showing `url` and polls its `window.sse` until
/// it holds enough events over enough connections, or 45 s pass.
async fn watch_page(browser: &mut Browser, url: &str) -> Result<Value, String> {
    let deadline = Instant::now() + Duration::from_secs(45);
    browser.attach(url).await?;
    let mut state = Value::Null;
    while Instant::now() < deadline {
        state = browser.read_json("window.sse").await?;
        let events = state["events"].as_array().map_or(0, Vec::len);
        if events >= EVENTS && state["opens"].as_u64().unwrap_or(0) >= CONNECTIONS {
            return Ok(state);
        }
        sleep(Duration::from_millis(200)).await;
    }
    Ok(state) // `run` reports what fell short
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
