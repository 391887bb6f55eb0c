//! `sse-codec` in the browser: `fetch` an event stream and decode its body,
//! a `ReadableStream`, chunk by chunk in WebAssembly, with the same core
//! decoder the native crates use (no `EventSource`).
//!
//! `index.html` loads the JS glue that `wasm-bindgen --target web` writes
//! into `pkg/` and calls [`run`] with the stream's URL (its `src` query
//! parameter) and, to resume a stream, the `Last-Event-ID` to send (its
//! `last_event_id` parameter). Each event is shown
//! as it is decoded, in `<ol id="events">`. When the stream ends, the page
//! writes every event and accepted `retry` as one JSON object per line into
//! `<pre id="result">`, byte for byte the format of the core's `sse-json`
//! driver (`{"type":…,"data":…,"id":…}`, `{"retry":N}`), so a test can
//! compare the two; `<p id="status">` then says `done: …`, or `error: …`.
//!
//! ```text
//! cargo build --release --target wasm32-unknown-unknown
//! wasm-bindgen --target web --no-typescript --out-dir pkg \
//!     target/wasm32-unknown-unknown/release/sse_codec_wasm_browser.wasm
//! python3 serve.py --upstream http://127.0.0.1:PORT   # the demo server
//! ```
//!
//! `.ci/wasm-browser.sh` does all of this and checks the result in headless
//! Chromium.

use sse_codec::{Decoder, Item};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Document, Headers, ReadableStreamDefaultReader, RequestInit, Response};

/// Fetches `url`, sending `last_event_id` (if any) as `Last-Event-ID`,
/// decodes the body as it arrives and shows each event; resolves with the
/// number of events once the body ends.
///
/// # Errors
///
/// A failed fetch, a status other than 200, a body that is not
/// `text/event-stream`, a read error, or a decoding error (a limit: the
/// defaults of [`sse_codec::Limits`]). The page shows the error too.
#[wasm_bindgen]
pub async fn run(url: String, last_event_id: Option<String>) -> Result<u32, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let document = window.document().ok_or("no document")?;
    let page = Page::new(document)?;
    match decode_stream(&window, &url, last_event_id.as_deref(), &page).await {
        Ok(events) => Ok(events),
        Err(e) => {
            let text = e.as_string().unwrap_or_else(|| format!("{e:?}"));
            page.status(&format!("error: {text}"));
            Err(e)
        }
    }
}

async fn decode_stream(
    window: &web_sys::Window,
    url: &str,
    last_event_id: Option<&str>,
    page: &Page,
) -> Result<u32, JsValue> {
    page.status(&format!("fetching {url}"));
    let init = RequestInit::new();
    if let Some(id) = last_event_id {
        // What an EventSource sends when it reconnects; a plain request
        // header, so a same-origin fetch may set it.
        let headers = Headers::new()?;
        headers.set("last-event-id", id)?;
        init.set_headers(&headers);
    }
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await?
        .dyn_into()?;
    let content_type = response.headers().get("content-type")?.unwrap_or_default();
    if response.status() != 200 || !content_type.starts_with("text/event-stream") {
        return Err(format!(
            "{url}: status {}, content-type {content_type:?}; want 200 and text/event-stream",
            response.status()
        )
        .into());
    }
    let body = response.body().ok_or("the response has no body")?;
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();

    let mut decoder = Decoder::new();
    let mut json = String::new();
    let mut chunk = Vec::new();
    let (mut events, mut chunks, mut bytes) = (0u32, 0u32, 0usize);
    loop {
        // { done, value: Uint8Array }: one chunk, as the network delivered it.
        let read = JsFuture::from(reader.read()).await?;
        if js_sys::Reflect::get(&read, &"done".into())?.is_truthy() {
            break;
        }
        let value = js_sys::Uint8Array::new(&js_sys::Reflect::get(&read, &"value".into())?);
        // Copied into wasm memory, into one buffer reused for every chunk.
        chunk.resize(value.length() as usize, 0);
        value.copy_to(&mut chunk);
        chunks += 1;
        bytes += chunk.len();
        let mut input = &chunk[..];
        while let Some(item) = decoder.decode(&mut input).map_err(|e| e.to_string())? {
            match item {
                Item::Event(event) => {
                    events += 1;
                    push_event_json(&mut json, event.event_type(), event.data(), event.id());
                    page.event(event.event_type(), event.id(), event.data())?;
                }
                Item::Retry(ms) => json.push_str(&format!("{{\"retry\":{ms}}}\n")),
                _ => {}
            }
        }
        page.status(&format!(
            "reading: {events} events from {chunks} chunks ({bytes} bytes)"
        ));
    }
    // End of stream: an event without its blank line is dropped.
    decoder.finish();
    page.result(&json);
    page.status(&format!(
        "done: {events} events from {chunks} chunks ({bytes} bytes)"
    ));
    Ok(events)
}

/// The page's three outputs.
struct Page {
    document: Document,
    events: web_sys::Element,
    status: web_sys::Element,
    result: web_sys::Element,
}

impl Page {
    fn new(document: Document) -> Result<Self, JsValue> {
        let find = |id: &str| {
            document
                .get_element_by_id(id)
                .ok_or_else(|| JsValue::from(format!("the page has no #{id}")))
        };
        Ok(Page {
            events: find("events")?,
            status: find("status")?,
            result: find("result")?,
            document: document.clone(),
        })
    }

    fn status(&self, text: &str) {
        self.status.set_text_content(Some(text));
    }

    fn event(&self, event_type: &str, id: &str, data: &str) -> Result<(), JsValue> {
        let li = self.document.create_element("li")?;
        for (class, text) in [("type", event_type), ("id", id), ("data", data)] {
            let span = self.document.create_element("span")?;
            span.set_class_name(class);
            span.set_text_content(Some(text));
            li.append_child(&span)?;
        }
        self.events.append_child(&li)?;
        Ok(())
    }

    fn result(&self, json: &str) {
        self.result.set_text_content(Some(json));
    }
}

/// One line as `sse-json` prints it: `{"type":…,"data":…,"id":…}`.
fn push_event_json(out: &mut String, event_type: &str, data: &str, id: &str) {
    out.push_str("{\"type\":");
    push_json_string(out, event_type);
    out.push_str(",\"data\":");
    push_json_string(out, data);
    out.push_str(",\"id\":");
    push_json_string(out, id);
    out.push_str("}\n");
}

/// Appends `s` as a JSON string literal, escaped as `sse-json` escapes it.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}
