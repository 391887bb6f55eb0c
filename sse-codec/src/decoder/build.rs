//! Building the items handed out, from the positions the line loop found:
//! each text validated once, invalid UTF-8 replaced in a copy.

use super::engine::{At, Found, TypeAt};
use super::Decoder;
use crate::event::{Event, Item};
use crate::storage::{Full, Storage};
use crate::trusted::meta::Meta;
use crate::utf8::{validate, validate_within};
use crate::Error;
use core::ops::Range;

impl<S: Storage> Decoder<S> {
    /// [`build`] with this decoder's storage.
    #[inline]
    pub(crate) fn build<'a>(
        &'a mut self,
        input: &'a [u8],
        found: Found,
    ) -> Result<Item<'a>, Error> {
        build(&self.body, &mut self.meta, self.offset, input, found)
    }
}

/// Turns positions into a borrowed item.
///
/// Text in `input` or `body` is handed out as is when valid, the usual
/// case, validated once; the last event ID is kept as text, so it costs
/// nothing here. A value with invalid UTF-8 (under
/// [`Utf8::Lossy`](crate::Utf8::Lossy); strict mode rejected it earlier)
/// gets a U+FFFD-replaced copy in meta's scratch.
///
/// Takes the storage it reads (`body`, `meta`) rather than the decoder,
/// so that a caller can hold other parts of the decoder while the item
/// lives. `offset` is where an error is reported.
#[inline]
pub(crate) fn build<'a, S: Storage>(
    body: &'a S,
    meta: &'a mut Meta<S>,
    offset: u64,
    input: &'a [u8],
    found: Found,
) -> Result<Item<'a>, Error> {
    // The usual event, one `data` line in the input and no type: one
    // validation, and the id as kept.
    if let Found::Event {
        data: At::Input(r),
        event_type: None,
    } = &found
    {
        if let Some(data) = validate_within(input, r.clone()) {
            let id = meta.id_str();
            return Ok(Item::Event(Event {
                event_type: "",
                data,
                id,
                raw_event_type: &[],
                raw_data: data.as_bytes(),
                raw_id: id.as_bytes(),
            }));
        }
    }
    build_any(body, meta, offset, input, found)
}

/// [`build`] of any item.
fn build_any<'a, S: Storage>(
    body: &'a S,
    meta: &'a mut Meta<S>,
    offset: u64,
    input: &'a [u8],
    found: Found,
) -> Result<Item<'a>, Error> {
    let full = Error::StorageFull {
        capacity: meta.fixed_capacity().unwrap_or(usize::MAX),
        offset,
    };
    let body: &'a [u8] = body.bytes();
    match found {
        Found::Retry(ms) => Ok(Item::Retry(ms)),
        Found::Comment(at) => {
            let raw = raw(input, body, &at);
            if let Some(text) = valid(input, body, &at) {
                return Ok(Item::Comment(text));
            }
            let copy = meta.push_lossy(raw).map_err(|Full| full)?;
            let meta: &'a Meta<S> = meta;
            Ok(Item::Comment(text_in(meta, copy)))
        }
        Found::Event { data, event_type } => {
            let raw_data = raw(input, body, &data);
            // The type, validated where that borrows only `input`; one
            // kept in meta is checked here and validated again when it
            // is handed out (the borrow checker cannot yet hand out a
            // borrow on one branch and mutate on the other). ASCII, the
            // usual type, is checked cheaply.
            let (type_text, type_ok) = match &event_type {
                None => (Some(""), true),
                Some(TypeAt::Input(r)) => {
                    let text = input.get(r.clone()).and_then(validate);
                    (text, text.is_some())
                }
                Some(TypeAt::Meta(r)) => {
                    let bytes = meta.bytes().get(r.clone()).unwrap_or_default();
                    (None, bytes.is_ascii() || validate(bytes).is_some())
                }
            };
            // Short values first: an invalid one is found before the
            // data is validated.
            let data_text = if type_ok {
                valid(input, body, &data)
            } else {
                None
            };
            if let Some(text) = data_text {
                // Every value is valid: meta is only read.
                let meta: &'a Meta<S> = meta;
                let ty = match (&event_type, type_text) {
                    (Some(TypeAt::Meta(r)), _) => text_in(meta, r.clone()),
                    (_, ty) => ty.unwrap_or_default(),
                };
                let id = meta.id_str();
                return Ok(Item::Event(Event {
                    event_type: ty,
                    data: text,
                    id,
                    raw_event_type: ty.as_bytes(),
                    raw_data: text.as_bytes(),
                    raw_id: id.as_bytes(),
                }));
            }
            // Invalid UTF-8: replaced copies in scratch, then each text
            // is found again (rare).
            let data_copy = match valid(input, body, &data) {
                Some(_) => None,
                None => Some(meta.push_lossy(raw_data).map_err(|Full| full)?),
            };
            let type_copy = match (&event_type, type_ok) {
                (Some(TypeAt::Input(r)), false) => {
                    let bytes = input.get(r.clone()).unwrap_or_default();
                    Some(meta.push_lossy(bytes).map_err(|Full| full)?)
                }
                (Some(TypeAt::Meta(r)), false) => {
                    Some(meta.push_lossy_within(r.clone()).map_err(|Full| full)?)
                }
                _ => None,
            };
            let meta: &'a Meta<S> = meta;
            let data_text = match data_copy {
                Some(copy) => text_in(meta, copy),
                None => valid(input, body, &data).unwrap_or_default(),
            };
            let raw_type = match &event_type {
                None => &[][..],
                Some(TypeAt::Input(r)) => input.get(r.clone()).unwrap_or_default(),
                Some(TypeAt::Meta(r)) => meta.bytes().get(r.clone()).unwrap_or_default(),
            };
            let type_text = match type_copy {
                Some(copy) => text_in(meta, copy),
                None => validate(raw_type).unwrap_or_default(),
            };
            let id = meta.id_str();
            Ok(Item::Event(Event {
                event_type: type_text,
                data: data_text,
                id,
                raw_event_type: raw_type,
                raw_data,
                raw_id: id.as_bytes(),
            }))
        }
    }
}

/// The bytes at `at`.
fn raw<'a>(input: &'a [u8], body: &'a [u8], at: &At) -> &'a [u8] {
    match at {
        At::Input(r) => input.get(r.clone()),
        At::Body(r) => body.get(r.clone()),
    }
    .unwrap_or_default()
}

/// The text at `at`, if valid. Text in `input` is validated with the bytes
/// after it, in whole SIMD blocks (see `validate_within`).
#[inline]
fn valid<'a>(input: &'a [u8], body: &'a [u8], at: &At) -> Option<&'a str> {
    match at {
        At::Input(r) => validate_within(input, r.clone()),
        At::Body(r) => body.get(r.clone()).and_then(validate),
    }
}

/// Text in meta (a kept type, or a replaced copy in scratch), checked or
/// replaced already, validated again to be handed out as `&str`: short, or
/// rare.
fn text_in<S: Storage>(meta: &Meta<S>, range: Range<usize>) -> &str {
    meta.bytes()
        .get(range)
        .and_then(validate)
        .unwrap_or_default()
}
