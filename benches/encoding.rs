//! Our encoder and `russe`'s, driven the same way by the `encode` bench and
//! by the `encode-once` binary (for callgrind).

use bytes::BytesMut;
use sse_codec::{Decoder, Frame, Item, OwnedEvent};
use std::hint::black_box;
use tokio_util::codec::Encoder as _;

use crate::Workload;

/// The workload's events, decoded.
pub fn events(workload: Workload) -> Vec<OwnedEvent> {
    let input = workload.generate();
    let mut decoder = Decoder::new();
    let mut events = Vec::with_capacity(input.events as usize);
    decoder.feed(&input.bytes, |item| {
        if let Ok(Item::Event(e)) = item {
            events.push(e.to_owned_event());
        }
    });
    assert_eq!(events.len() as u64, input.events);
    events
}

/// What a sender sets: no `event:` line for `message`, no `id:` if none.
pub fn fields(e: &OwnedEvent) -> (Option<&str>, Option<&str>, &str) {
    let event_type = Some(e.event_type.as_str()).filter(|t| *t != "message");
    let id = Some(e.id.as_str()).filter(|id| !id.is_empty());
    (event_type, id, &e.data)
}

pub fn frame(e: &OwnedEvent) -> Frame<'_> {
    let (event_type, id, data) = fields(e);
    let mut frame = Frame::event(data);
    if let Some(t) = event_type {
        frame = frame.with_event_type(t);
    }
    if let Some(id) = id {
        frame = frame.with_id(id);
    }
    frame
}

/// Each event into the same buffer, emptied before each one, as a server
/// writing every event to its socket would.
pub fn ours(events: &[OwnedEvent], out: &mut Vec<u8>) -> usize {
    let mut total = 0;
    for e in events {
        out.clear();
        frame(e).encode_to_vec(out).expect("valid frame");
        total += black_box(&*out).len();
    }
    total
}

pub fn ours_to_vec(events: &[OwnedEvent]) -> usize {
    events
        .iter()
        .map(|e| frame(e).to_vec().expect("valid frame").len())
        .sum()
}

pub fn russe_events(events: &[OwnedEvent]) -> Vec<russe::Event> {
    events
        .iter()
        .map(|e| {
            let (event_type, id, data) = fields(e);
            russe::Event::Message(russe::Message {
                data: data.into(),
                event: event_type.map(Into::into),
                retry: None,
                id: id.map(Into::into),
            })
        })
        .collect()
}

/// Into one buffer cleared before each event, as `ours` does.
pub fn russe(events: Vec<russe::Event>, out: &mut BytesMut) -> usize {
    let mut encoder = russe::Encoder::default();
    let mut total = 0;
    for e in events {
        out.clear();
        encoder.encode(e, out).expect("valid event");
        total += black_box(&**out).len();
    }
    total
}
