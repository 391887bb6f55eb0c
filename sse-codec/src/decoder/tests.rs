//! Unit tests of the engine's bookkeeping; the conformance vectors, the
//! oracle and the property tests live in the `tests/` crate.

use super::*;
use crate::SliceStorage;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

fn items<S: Storage>(decoder: &mut Decoder<S>, chunks: &[&[u8]]) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in chunks {
        let mut rest = *chunk;
        loop {
            match decoder.decode(&mut rest) {
                Ok(None) => break,
                item => out.push(format!("{item:?}")),
            }
        }
    }
    out
}

#[test]
fn an_event_in_one_input_is_slices_of_it() {
    let input = b"event: t\nid: 1\ndata: x\n\n";
    let mut decoder = Decoder::new();
    let mut rest = &input[..];
    let Ok(Some(Item::Event(e))) = decoder.decode(&mut rest) else {
        panic!()
    };
    assert_eq!(e.data().as_ptr(), input[21..].as_ptr());
    assert_eq!(e.event_type().as_ptr(), input[7..].as_ptr());
    assert_eq!((e.event_type(), e.id(), e.data()), ("t", "1", "x"));
}

#[test]
fn a_cut_event_is_kept_in_storage() {
    let mut decoder = Decoder::new();
    let got = items(
        &mut decoder,
        &[b"event: t\nid: 1\nda", b"ta: x\ndata: y\n", b"\n"],
    );
    assert_eq!(got.len(), 1);
    assert!(
        got[0].contains("event_type: \"t\", data: \"x\\ny\", id: \"1\""),
        "{got:?}"
    );
    assert_eq!(decoder.last_event_id(), b"1");
}

#[test]
fn a_fixed_buffer_overflows_the_same_way_whatever_the_chunking() {
    // Room for 19 bytes of body: the data so far plus the line, counted as
    // if each line had been cut.
    let input = b"data: 0123456789\ndata: abc\n\ndata: short\n\n";
    let mut reference = None;
    for size in 1..=input.len() {
        let (mut body, mut meta) = ([0u8; 19], [0u8; 16]);
        let mut decoder =
            Decoder::from_storage(SliceStorage::new(&mut body), SliceStorage::new(&mut meta));
        let chunks: Vec<&[u8]> = input.chunks(size).collect();
        let got = items(&mut decoder, &chunks);
        match &reference {
            None => reference = Some(got),
            Some(r) => assert_eq!(&got, r, "chunks of {size}"),
        }
    }
    let reference = reference.unwrap();
    assert!(reference[0].contains("StorageFull"), "{reference:?}");
    assert!(reference[1].contains("short"), "{reference:?}");
}
