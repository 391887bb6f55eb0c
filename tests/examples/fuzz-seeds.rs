//! Writes the fuzz seed corpus made from the conformance vectors:
//! `cargo run -p sse-codec-tests --example fuzz-seeds -- DIR` creates
//! `DIR/<target>/<vector name>` for every fuzz target.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "fuzz/seeds".into()),
    );
    let seeds = sse_codec_tests::seeds::seeds();
    for (target, name, bytes) in &seeds {
        let d = dir.join(target);
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join(name), bytes)?;
    }
    println!("wrote {} seeds under {}", seeds.len(), dir.display());
    Ok(())
}
