//! Whole-pack traversal benchmark: `gixbench ours|gix GIT_DIR [THREADS]`.
//! Both modes inflate every packed object once (deltas resolved) and run the same trivial consumer on it
//! (count of NUL bytes with memchr, plus byte and object totals), printed at the end so the two can be
//! compared and the work cannot be optimized away.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Default, Clone, Copy, Debug)]
struct Tally {
    objects: u64,
    bytes: u64,
    nuls: u64,
    errors: u64,
}

fn consume(t: &mut Tally, data: &[u8]) {
    t.objects += 1;
    t.bytes += data.len() as u64;
    t.nuls += memchr::memchr_iter(0, data).count() as u64;
}

fn ours(git_dir: &Path, threads: usize) -> Tally {
    use unleak::git::odb::{enumerate, read_objects};
    use unleak::git::pack::KindSet;
    let objects = enumerate(&[git_dir.join("objects")]).expect("enumerate");
    let passed = read_objects(
        git_dir,
        &objects,
        KindSet::ALL,
        threads,
        &|_| {},
        &Tally::default,
        &|t, _oid, obj| match obj {
            Ok((_kind, data)) => consume(t, data),
            Err(reason) => {
                t.errors += 1;
                eprintln!("unreadable: {reason}");
            }
        },
    )
    .expect("read_objects");
    for w in &passed.warnings {
        eprintln!("warning: {w}");
    }
    passed.states.iter().fold(Tally::default(), |a, s| Tally {
        objects: a.objects + s.objects,
        bytes: a.bytes + s.bytes,
        nuls: a.nuls + s.nuls,
        errors: a.errors + s.errors,
    })
}

/// The processor's state: shared totals.
#[derive(Clone)]
struct Proc {
    shared: Arc<[AtomicU64; 3]>,
}

fn gix(git_dir: &Path, threads: usize, lookup: bool) -> Tally {
    use gix_pack::index::traverse::{Algorithm, Options, SafetyCheck};
    let mut idx_files: Vec<PathBuf> = std::fs::read_dir(git_dir.join("objects/pack"))
        .expect("pack dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect();
    idx_files.sort();
    let shared: Arc<[AtomicU64; 3]> = Arc::new(Default::default());
    let interrupt = AtomicBool::new(false);
    for idx in idx_files {
        let index = gix_pack::index::File::at(&idx, gix_hash::Kind::Sha1).expect("index");
        let pack =
            gix_pack::data::File::at(idx.with_extension("pack"), gix_hash::Kind::Sha1).expect("pack");
        let proc = Proc {
            shared: shared.clone(),
        };
        let outcome = index.traverse(
            &pack,
            &mut gix_utils::progress::Discard,
            &interrupt,
            move |_kind, data: &[u8], _entry, _progress| -> gix_error::Result {
                // Per-object relaxed adds: the processor's clones are not reliably dropped (a
                // flush-on-drop tally came back empty), and ~2.5M uncontended adds cost milliseconds.
                let mut t = Tally::default();
                consume(&mut t, data);
                proc.shared[0].fetch_add(t.objects, Ordering::Relaxed);
                proc.shared[1].fetch_add(t.bytes, Ordering::Relaxed);
                proc.shared[2].fetch_add(t.nuls, Ordering::Relaxed);
                Ok(())
            },
            Options {
                // DeltaTreeLookup is what traverse_with_index runs (gix verify's default);
                // Lookup resolves each entry through a pack cache (the one with no-abort-on-decode-error).
                traversal: if lookup { Algorithm::Lookup } else { Algorithm::DeltaTreeLookup },
                thread_limit: Some(threads),
                check: SafetyCheck::SkipFileAndObjectChecksumVerificationAndNoAbortOnDecodeError,
                alloc_limit_bytes: None,
                make_pack_lookup_cache: gix_pack::cache::lru::StaticLinkedList::<64>::default,
            },
        );
        match outcome {
            Ok(o) => eprintln!(
                "gix stats: commits {} trees {} blobs {} tags {}",
                o.statistics.num_commits,
                o.statistics.num_trees,
                o.statistics.num_blobs,
                o.statistics.num_tags
            ),
            Err(e) => eprintln!("gix traversal failed: {e:?}"),
        }
    }
    Tally {
        objects: shared[0].load(Ordering::Relaxed),
        bytes: shared[1].load(Ordering::Relaxed),
        nuls: shared[2].load(Ordering::Relaxed),
        errors: 0,
    }
}

/// Samples RssAnon/RssFile from /proc/self/status every 20 ms and keeps the maxima (KiB): %M of
/// /usr/bin/time counts the mmapped pack's file pages too, which gix maps and ours reads with pread.
fn sample_rss() -> Arc<[AtomicU64; 2]> {
    let peaks: Arc<[AtomicU64; 2]> = Arc::new(Default::default());
    let p = peaks.clone();
    std::thread::spawn(move || loop {
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            for line in status.lines() {
                let slot = if line.starts_with("RssAnon:") {
                    0
                } else if line.starts_with("RssFile:") {
                    1
                } else {
                    continue;
                };
                let kib: u64 = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                p[slot].fetch_max(kib, Ordering::Relaxed);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    });
    peaks
}

fn main() {
    let peaks = sample_rss();
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gixbench ours|gix GIT_DIR [THREADS]");
        std::process::exit(2);
    }
    let threads: usize = args.get(3).map_or(2, |t| t.parse().expect("threads"));
    let git_dir = Path::new(&args[2]);
    let t = match args[1].as_str() {
        "ours" => ours(git_dir, threads),
        "gix" => gix(git_dir, threads, false),
        "gix-lookup" => gix(git_dir, threads, true),
        m => panic!("unknown mode {m}"),
    };
    println!(
        "{}: objects {} bytes {} nuls {} errors {}",
        args[1], t.objects, t.bytes, t.nuls, t.errors
    );
    eprintln!(
        "peak RssAnon {} MiB, peak RssFile {} MiB (sampled every 20 ms)",
        peaks[0].load(Ordering::Relaxed) / 1024,
        peaks[1].load(Ordering::Relaxed) / 1024
    );
}
