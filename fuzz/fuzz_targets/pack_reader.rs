//! The pack reader on an arbitrary pack file: never panics, never allocates without bound, and reports
//! a damaged entry instead of failing the whole pack where it can.
//!
//! Input layout: one byte `n` (entries, at most 32), then `n` little-endian u32 entry offsets, then the
//! pack file itself (a valid `PACK` header is put in front when the input lacks one, so the fuzzer spends
//! its time inside entries).
#![no_main]

use libfuzzer_sys::fuzz_target;
use unleak::git::pack::{traverse, KindSet, PackInput};

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 33);
    if rest.len() < 4 * n {
        return;
    }
    let (offsets, body) = rest.split_at(4 * n);
    let mut pack = Vec::with_capacity(body.len() + 32);
    if !body.starts_with(b"PACK") {
        pack.extend_from_slice(b"PACK");
        pack.extend_from_slice(&2u32.to_be_bytes());
        pack.extend_from_slice(&(n as u32).to_be_bytes());
    }
    pack.extend_from_slice(body);
    pack.extend_from_slice(&[0u8; 20]); // trailer
    let entries: Vec<(unleak::git::Oid, u64)> = offsets
        .chunks(4)
        .enumerate()
        .map(|(i, b)| {
            let mut id = [0u8; 20];
            id[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            (
                unleak::git::Oid::from_bytes(&id).unwrap(),
                u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.pack");
    std::fs::write(&path, &pack).unwrap();
    let input = PackInput {
        path: &path,
        entries: &entries,
        skip: &[],
        kinds: KindSet::ALL,
    };
    let mut states = vec![0u64];
    let visit = |seen: &mut u64, _oid: unleak::git::Oid, _kind, bytes: &[u8]| {
        *seen += bytes.len() as u64;
    };
    let _ = traverse(&input, &mut states, &visit, &|_| {});
});
