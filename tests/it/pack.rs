//! The pack traversal against git itself: every object of real packs (deep OFS_DELTA chains, REF_DELTA,
//! a large blob) must come out with the same type and bytes as `git cat-file --batch-all-objects`, and a
//! damaged pack must fail object by object, never as a whole and never with a panic.

use crate::util::*;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use unleak::git::odb as objects;
use unleak::git::pack::{self, KindSet, ObjectKind, PackInput};

type Objects = BTreeMap<String, (String, Vec<u8>)>;

/// Every object as git reads it: id -> (type, bytes).
fn cat_file_all(git_dir: &Path) -> Objects {
    let mut cmd = Command::new("git");
    scrub(&mut cmd).arg("--git-dir").arg(git_dir).args([
        "cat-file",
        "--batch-all-objects",
        "--batch",
    ]);
    let out = cmd.output().expect("git runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut objects = Objects::new();
    let mut rest = &out.stdout[..];
    while !rest.is_empty() {
        let eol = rest.iter().position(|b| *b == b'\n').unwrap();
        let header = std::str::from_utf8(&rest[..eol]).unwrap();
        let mut fields = header.split(' ');
        let (oid, kind, size) = (
            fields.next().unwrap().to_string(),
            fields.next().unwrap().to_string(),
            fields.next().unwrap().parse::<usize>().unwrap(),
        );
        let data = rest[eol + 1..eol + 1 + size].to_vec();
        rest = &rest[eol + 1 + size + 1..];
        objects.insert(oid, (kind, data));
    }
    objects
}

fn kind_name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Commit => "commit",
        ObjectKind::Tree => "tree",
        ObjectKind::Blob => "blob",
        ObjectKind::Tag => "tag",
    }
}

/// A bare repository built with `git fast-import` from `stream`, then repacked with `repack_args`.
fn imported_repo(stream: &[u8], repack_config: &[&str], repack_args: &[&str]) -> TestRepo {
    let repo = TestRepo::new();
    repo.fast_import(stream);
    let mut args: Vec<&str> = Vec::new();
    for config in repack_config {
        args.extend(["-c", config]);
    }
    args.extend(["repack", "-a", "-d", "-f", "-q"]);
    args.extend_from_slice(repack_args);
    repo.git(&args);
    repo
}

/// A fast-import stream: `commits` commits, each rewriting a few lines of several similar files, so a
/// repack makes long delta chains.
fn history_stream(commits: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut files: Vec<Vec<String>> = (0..4)
        .map(|f| {
            (0..150)
                .map(|l| format!("file {f} line {l}: some text that stays the same"))
                .collect()
        })
        .collect();
    for c in 0..commits {
        write!(
            out,
            "commit refs/heads/main\nmark :{}\ncommitter Ada <ada@example.com> {} +0000\n",
            c + 1,
            1_700_000_000 + c * 60
        )
        .unwrap();
        let message = format!("change {c}\n");
        write!(out, "data {}\n{message}", message.len()).unwrap();
        if c > 0 {
            writeln!(out, "from :{c}").unwrap();
        }
        for (f, lines) in files.iter_mut().enumerate() {
            if (c + f) % 3 == 0 {
                continue;
            }
            lines[(c * 7 + f) % 150] = format!("file {f} line changed in commit {c}");
            if c % 10 == f {
                lines.push(format!("appended in {c}"));
            }
            let body = lines.join("\n") + "\n";
            write!(
                out,
                "M 100644 inline dir{}/file{f}.txt\ndata {}\n{body}\n",
                f % 2,
                body.len()
            )
            .unwrap();
        }
        if c % 25 == 0 {
            write!(out, "tag v{c}\nfrom :{}\ntagger Ada <ada@example.com> 1700000000 +0000\ndata 8\nrelease\n", c + 1).unwrap();
        }
    }
    out
}

/// Pseudo-random printable bytes (a fixed LCG), so git cannot compress them to nothing.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|i| {
            if i % 80 == 79 {
                return b'\n';
            }
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            b' ' + ((state >> 33) % 94) as u8
        })
        .collect()
}

fn pack_files(git_dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut packs: Vec<_> = std::fs::read_dir(git_dir.join("objects/pack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pack"))
        .map(|p| (p.clone(), p.with_extension("idx")))
        .collect();
    packs.sort();
    packs
}

type Seen = Vec<(String, &'static str, Vec<u8>)>;

/// Runs the traversal over one pack; returns what it visited (by id) and the ids it reported.
fn traverse(
    pack: &Path,
    entries: &[(unleak::git::Oid, u64)],
    kinds: KindSet,
    threads: usize,
) -> (Objects, BTreeMap<String, String>) {
    let input = PackInput {
        path: pack,
        entries,
        skip: &[],
        kinds,
        pack_order: &[],
        crcs: &[],
        verify_ids: false,
    };
    let mut states: Vec<Seen> = vec![Vec::new(); threads];
    let errors = pack::traverse(
        &input,
        &mut states,
        &|seen: &mut Seen, oid, kind, data: &[u8]| {
            seen.push((oid.to_string(), kind_name(kind), data.to_vec()))
        },
        &|_| {},
    )
    .expect("the pack opens");
    let mut visited = Objects::new();
    for (oid, kind, data) in states.into_iter().flatten() {
        let previous = visited.insert(oid.clone(), (kind.to_string(), data));
        assert!(previous.is_none(), "{oid} visited twice");
    }
    let errors = errors
        .into_iter()
        .map(|e| (e.oid.to_string(), e.reason))
        .collect();
    (visited, errors)
}

/// Asserts the traversal of every pack (and the bulk pass's reader) yields exactly git's objects.
fn assert_reads_like_git(repo: &TestRepo) -> Objects {
    let git_dir = repo.path.join(".git");
    let expected = cat_file_all(&git_dir);
    for threads in [1, 2, 4] {
        let mut all = Objects::new();
        let mut packed = Objects::new();
        for (pack, idx) in pack_files(&git_dir) {
            let entries = pack::read_index(&idx).unwrap();
            for (oid, _) in &entries {
                let oid = oid.to_string();
                packed.insert(oid.clone(), expected[&oid].clone());
            }
            let (visited, errors) = traverse(&pack, &entries, KindSet::ALL, threads);
            assert!(errors.is_empty(), "{errors:#?}");
            all.extend(visited);
        }
        assert_same(&all, &packed);
    }

    // The bulk pass's reader, packs and loose objects together.
    let list = objects::enumerate(&[git_dir.join("objects")]).unwrap();
    assert_eq!(list.len(), expected.len());
    let states = objects::for_each_object(
        &git_dir,
        &list,
        2,
        &|_| {},
        &Vec::new,
        &|seen: &mut Vec<(String, String, Vec<u8>)>, oid, object| {
            let (kind, data) = object.expect("every object reads");
            seen.push((oid.to_string(), kind.as_str().to_string(), data.to_vec()));
        },
    )
    .unwrap();
    let count: usize = states.iter().map(Vec::len).sum();
    assert_eq!(count, expected.len(), "an object was read twice");
    let read: Objects = states
        .into_iter()
        .flatten()
        .map(|(oid, kind, data)| (oid, (kind, data)))
        .collect();
    assert_same(&read, &expected);
    expected
}

fn assert_same(got: &Objects, expected: &Objects) {
    let got_ids: BTreeSet<&String> = got.keys().collect();
    let expected_ids: BTreeSet<&String> = expected.keys().collect();
    assert_eq!(
        got_ids.symmetric_difference(&expected_ids).count(),
        0,
        "object sets differ: missing {:?}, extra {:?}",
        expected_ids
            .difference(&got_ids)
            .take(5)
            .collect::<Vec<_>>(),
        got_ids
            .difference(&expected_ids)
            .take(5)
            .collect::<Vec<_>>()
    );
    for (oid, (kind, data)) in expected {
        let (got_kind, got_data) = &got[oid];
        assert_eq!(got_kind, kind, "type of {oid}");
        assert!(
            got_data == data,
            "bytes of {oid} differ ({} vs {} bytes)",
            got_data.len(),
            data.len()
        );
    }
}

/// The longest delta chain `git verify-pack` reports.
fn max_chain(git_dir: &Path) -> usize {
    let (pack, _) = &pack_files(git_dir)[0];
    let out = run_git(git_dir, &["verify-pack", "-v", pack.to_str().unwrap()], 0);
    out.lines()
        .filter_map(|l| l.strip_prefix("chain length = "))
        .filter_map(|l| l.split(':').next()?.trim().parse().ok())
        .max()
        .unwrap_or(0)
}

/// How many entries of `pack` are REF_DELTA (type 7 in the entry's first byte).
fn ref_deltas(pack: &Path, entries: &[(unleak::git::Oid, u64)]) -> usize {
    let bytes = std::fs::read(pack).unwrap();
    entries
        .iter()
        .filter(|(_, offset)| (bytes[*offset as usize] >> 4) & 7 == 7)
        .count()
}

#[test]
fn deep_ofs_delta_chains_read_like_git() {
    let repo = imported_repo(&history_stream(300), &[], &["--depth=50", "--window=50"]);
    let git_dir = repo.path.join(".git");
    assert!(
        max_chain(&git_dir) >= 20,
        "chains too short to test: {}",
        max_chain(&git_dir)
    );
    let expected = assert_reads_like_git(&repo);
    assert!(expected.len() > 1000);

    // Only trees: exactly git's trees, nothing else decoded.
    let (pack, idx) = &pack_files(&git_dir)[0];
    let entries = pack::read_index(idx).unwrap();
    let (trees, errors) = traverse(pack, &entries, KindSet::of(&[ObjectKind::Tree]), 2);
    assert!(errors.is_empty());
    let expected_trees: Objects = expected
        .into_iter()
        .filter(|(_, (kind, _))| kind == "tree")
        .collect();
    assert_same(&trees, &expected_trees);

    // A few wanted trees (every seventh, deep in delta chains): exactly those are visited, each with
    // git's bytes, though their bases are inflated to reach them.
    let wanted: Objects = expected_trees
        .iter()
        .step_by(7)
        .map(|(oid, object)| (oid.clone(), object.clone()))
        .collect();
    let list = objects::enumerate(&[git_dir.join("objects")]).unwrap();
    let only = list.only(&|oid| wanted.contains_key(&oid.to_string()));
    assert_eq!(only.len(), wanted.len());
    let passed = objects::read_objects(
        &git_dir,
        &only,
        KindSet::of(&[ObjectKind::Tree]),
        2,
        &|_| {},
        &Vec::new,
        &|seen: &mut Vec<(String, (String, Vec<u8>))>, oid, object| {
            let (kind, data) = object.expect("every object reads");
            seen.push((oid.to_string(), (kind.as_str().to_string(), data.to_vec())));
        },
    )
    .unwrap();
    let visited: Vec<_> = passed.states.into_iter().flatten().collect();
    assert_eq!(
        visited.len(),
        wanted.len(),
        "a tree was visited twice or not wanted"
    );
    assert_same(&visited.into_iter().collect(), &wanted);
}

#[test]
fn ref_deltas_read_like_git() {
    let repo = imported_repo(
        &history_stream(120),
        &["repack.useDeltaBaseOffset=false"],
        &["--depth=50", "--window=50"],
    );
    let git_dir = repo.path.join(".git");
    let (pack, idx) = &pack_files(&git_dir)[0];
    let entries = pack::read_index(idx).unwrap();
    assert!(
        ref_deltas(pack, &entries) > 100,
        "the pack has no REF_DELTA entries"
    );
    assert_reads_like_git(&repo);
}

#[test]
fn a_large_blob_and_its_delta_read_like_git() {
    let big = noise(20 << 20, 7);
    let mut changed = big.clone();
    changed[10 << 20..(10 << 20) + 11].copy_from_slice(b"hello there");
    let mut stream = Vec::new();
    for (c, body) in [&big, &changed].into_iter().enumerate() {
        write!(
            stream,
            "commit refs/heads/main\nmark :{}\ncommitter Ada <ada@example.com> 1700000000 +0000\ndata 4\nbig\n",
            c + 1
        )
        .unwrap();
        if c > 0 {
            writeln!(stream, "from :{c}").unwrap();
        }
        write!(stream, "M 100644 inline big.bin\ndata {}\n", body.len()).unwrap();
        stream.extend_from_slice(body);
        stream.push(b'\n');
    }
    let repo = imported_repo(&stream, &[], &[]);
    // A loose object beside the pack goes through libgit2.
    repo.commit_file("loose.txt", "not packed\n", "loose");
    let expected = assert_reads_like_git(&repo);
    assert!(expected.values().any(|(_, data)| data.len() == 20 << 20));
}

#[test]
fn a_damaged_pack_fails_object_by_object() {
    let repo = imported_repo(&history_stream(150), &[], &["--depth=50", "--window=50"]);
    let git_dir = repo.path.join(".git");
    let expected = cat_file_all(&git_dir);
    let (pack, idx) = &pack_files(&git_dir)[0];
    let entries = pack::read_index(idx).unwrap();
    let bytes = std::fs::read(pack).unwrap();
    let scratch = tempfile::tempdir().unwrap();

    let check = |damaged: &[u8], must_fail: &[unleak::git::Oid]| {
        let path = scratch.path().join("damaged.pack");
        std::fs::write(&path, damaged).unwrap();
        let (visited, errors) = traverse(&path, &entries, KindSet::ALL, 2);
        for (oid, (kind, data)) in &visited {
            let (want_kind, want_data) = &expected[oid];
            assert_eq!(kind, want_kind, "type of {oid}");
            assert!(data == want_data, "{oid} was visited with wrong bytes");
        }
        for oid in visited.keys() {
            assert!(!errors.contains_key(oid), "{oid} both visited and reported");
        }
        assert_eq!(visited.len() + errors.len(), entries.len());
        for oid in must_fail {
            assert!(
                errors.contains_key(&oid.to_string()),
                "{oid} not reported: {errors:#?}"
            );
        }
        assert!(!visited.is_empty() && !errors.is_empty());
        errors
    };

    // Cut in half: everything past the cut fails, everything before it reads.
    let cut = bytes.len() / 2;
    let past_cut: Vec<unleak::git::Oid> = entries
        .iter()
        .filter(|(_, offset)| *offset as usize >= cut)
        .map(|(oid, _)| *oid)
        .collect();
    let errors = check(&bytes[..cut], &past_cut);
    assert!(
        errors.values().any(|r| r.contains("truncated")),
        "{errors:#?}"
    );

    // Bytes flipped inside the largest entry's compressed data.
    let mut by_offset: Vec<(u64, unleak::git::Oid)> =
        entries.iter().map(|(o, off)| (*off, *o)).collect();
    by_offset.sort();
    let ends = by_offset
        .iter()
        .skip(1)
        .map(|(off, _)| *off)
        .chain([bytes.len() as u64 - 20]);
    let (span, offset, victim) = by_offset
        .iter()
        .zip(ends)
        .map(|((off, oid), end)| (end - off, *off, *oid))
        .max()
        .unwrap();
    let mut flipped = bytes.clone();
    for i in 0..4 {
        flipped[(offset + span / 2) as usize + i] ^= 0x5a;
    }
    check(&flipped, &[victim]);

    // The same damage in a repository, through the bulk pass's reader: libgit2 gets a second chance at
    // the objects we could not decode, and both reasons are reported when it fails too; an entry whose
    // bytes fail their CRC32 gets none (libgit2 would take the same wrong bytes).
    let copy = scratch.path().join("copy.git");
    let status = Command::new("cp")
        .arg("-r")
        .arg(&git_dir)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success());
    let copied_pack = copy.join("objects/pack").join(pack.file_name().unwrap());
    std::fs::remove_file(&copied_pack).unwrap();
    std::fs::write(&copied_pack, &flipped).unwrap();
    let list = objects::enumerate(&[copy.join("objects")]).unwrap();
    let states = objects::for_each_object(
        &copy,
        &list,
        2,
        &|_| {},
        &Vec::new,
        &|seen: &mut Vec<(String, Result<Vec<u8>, String>)>, oid, object| {
            seen.push((oid.to_string(), object.map(|(_, data)| data.to_vec())));
        },
    )
    .unwrap();
    let read: Vec<_> = states.into_iter().flatten().collect();
    assert_eq!(read.len(), expected.len());
    for (oid, result) in &read {
        match result {
            Ok(data) => assert!(data == &expected[oid].1, "{oid} read with wrong bytes"),
            Err(reason) => assert!(
                reason.contains("libgit2")
                    || reason.contains("CRC32")
                    || reason.contains("delta base"),
                "{oid}: {reason}"
            ),
        }
    }
    let victim_read = read
        .iter()
        .find(|(oid, _)| *oid == victim.to_string())
        .unwrap();
    assert!(
        victim_read.1.is_err(),
        "the damaged object read without error"
    );

    // A pack our reader refuses as a whole goes to libgit2, with a warning that says why.
    let mut unknown_version = bytes.clone();
    unknown_version[7] = 9;
    std::fs::remove_file(&copied_pack).unwrap();
    std::fs::write(&copied_pack, &unknown_version).unwrap();
    let passed = objects::read_objects(
        &copy,
        &list,
        KindSet::ALL,
        2,
        &|_| {},
        &|| 0usize,
        &|count: &mut usize, _, _| *count += 1,
    )
    .unwrap();
    assert_eq!(passed.states.iter().sum::<usize>(), expected.len());
    assert_eq!(passed.warnings.len(), 1, "{:?}", passed.warnings);
    assert!(
        passed.warnings[0].contains("libgit2"),
        "{:?}",
        passed.warnings
    );

    // A garbage header on the first entry.
    let first = by_offset[0].0 as usize;
    let mut garbage = bytes.clone();
    garbage[first] = 0x50;
    check(&garbage, &[by_offset[0].1]);
}

#[test]
fn objects_in_several_packs_are_read_once() {
    // fast-import leaves a pack; `repack -a` without `-d` writes a second one holding the same objects.
    let repo = imported_repo(&history_stream(40), &[], &["--depth=10"]);
    repo.commit_file("more.txt", "one more\n", "more");
    repo.git(&["repack", "-a", "-q"]);
    repo.commit_file("loose.txt", "loose\n", "loose");
    let git_dir = repo.path.join(".git");
    let indexed: usize = pack_files(&git_dir)
        .iter()
        .map(|(_, idx)| pack::read_index(idx).unwrap().len())
        .sum();
    assert!(
        indexed > cat_file_all(&git_dir).len(),
        "the packs do not overlap"
    );
    assert_reads_like_git(&repo);
}

#[test]
fn the_pack_order_git_writes_is_the_one_sorting_gives() {
    let repo = imported_repo(&history_stream(30), &["pack.writeReverseIndex=true"], &[]);
    let git_dir = repo.path.join(".git");
    for (pack, idx) in pack_files(&git_dir) {
        let rev = pack.with_extension("rev");
        assert!(rev.exists(), "git wrote no reverse index");
        let entries = pack::read_index(&idx).unwrap();
        assert_eq!(
            pack::read_reverse_index(&rev, &entries),
            Some(pack::pack_order(&entries)),
            "the reverse index git wrote is not read"
        );
    }
}

#[test]
fn objects_both_loose_and_in_the_one_pack_are_read_once() {
    // `repack -a` without `-d` packs the loose objects and leaves them in place: one pack, and loose
    // objects that it holds too (each is looked up in the pack's index) and one that it does not.
    let repo = TestRepo::new();
    for n in 0..5 {
        repo.commit_file(&format!("f{n}.txt"), format!("file {n}\n"), "add");
    }
    repo.git(&["repack", "-a", "-q"]);
    repo.commit_file("late.txt", "after the pack\n", "late");
    let git_dir = repo.path.join(".git");
    assert_eq!(pack_files(&git_dir).len(), 1, "one pack");
    let loose = std::fs::read_dir(git_dir.join("objects"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().len() == 2)
        .map(|dir| std::fs::read_dir(dir).unwrap().count())
        .sum::<usize>();
    let packed = pack::read_index(&pack_files(&git_dir)[0].1).unwrap().len();
    assert_eq!(
        cat_file_all(&git_dir).len(),
        loose,
        "every object is loose too"
    );
    assert!(loose > packed, "some loose objects are not in the pack");
    assert_reads_like_git(&repo);
}

/// A fast-import stream of one file whose versions keep, cut, break and restore a token inside long
/// similar text, so a repack makes deltas that copy the token whole, copy half of it, or insert it.
fn token_history_stream(token: &str, commits: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut lines: Vec<String> = (0..120)
        .map(|l| format!("line {l}: text that stays the same in every version"))
        .collect();
    for c in 0..commits {
        write!(
            out,
            "commit refs/heads/main\nmark :{}\ncommitter Ada <ada@example.com> {} +0000\ndata 7\nchange\n",
            c + 1,
            1_700_000_000 + c * 60
        )
        .unwrap();
        if c > 0 {
            writeln!(out, "from :{c}").unwrap();
        }
        let line = (c * 37) % 120;
        lines[line] = match c % 6 {
            // The token whole, at a new place.
            0 => format!("token = {token}"),
            // Half of it: a delta may copy this half from a version that held all of it.
            1 => format!("token = {}", &token[..token.len() / 2]),
            // One byte changed inside it.
            2 => format!("token = {}X{}", &token[..10], &token[11..]),
            // Glued to a word, and twice on one line.
            3 => format!("x{token}{token}"),
            // Split over two lines.
            4 => format!("{}\n{}", &token[..7], &token[7..]),
            _ => format!("line {line} rewritten in {c}"),
        };
        let body = lines.join("\n") + "\n";
        write!(
            out,
            "M 100644 inline notes.txt\ndata {}\n{body}\n",
            body.len()
        )
        .unwrap();
    }
    out
}

/// The pass searches a delta only where it differs from its base and carries the base's needle
/// occurrences over: it must find exactly the objects, and the occurrences in each, that a search of
/// every object as git reads it finds.
#[test]
fn the_pass_finds_in_deltas_what_a_search_of_every_object_finds() {
    let token = fake_hf_token();
    let repo = imported_repo(
        &token_history_stream(&token, 240),
        &[],
        &["--depth=50", "--window=50"],
    );
    let git_dir = repo.path.join(".git");
    assert!(max_chain(&git_dir) >= 20, "chains too short to test");
    let needle = token.as_bytes();
    let expected: BTreeMap<String, usize> = cat_file_all(&git_dir)
        .into_iter()
        .filter_map(|(oid, (_, data))| {
            let mut count = 0;
            let mut at = 0;
            while let Some(i) = data[at..].windows(needle.len()).position(|w| w == needle) {
                count += 1;
                at += i + needle.len();
            }
            (count > 0).then_some((oid, count))
        })
        .collect();
    assert!(expected.len() >= 20, "too few versions hold the token");

    let secret = unleak::secret::Secret::new(token.clone(), "test");
    let matcher = unleak::matching::exact::Matcher::new(&[secret]);
    let list = objects::enumerate(&[git_dir.join("objects")]).unwrap();
    let pass =
        unleak::scan::objects::bulk_pass(&git_dir, &list, &matcher, None, 2, &|_| {}).unwrap();
    assert!(pass.unreadable.is_empty());
    let found: BTreeMap<String, usize> = pass
        .hits
        .iter()
        .map(|object| (object.oid.to_string(), object.hits.len()))
        .collect();
    assert_eq!(found, expected);
}

/// Regression (the bar showed `30/15` with loose objects): the scan's two passes (blobs, commits and
/// tags, then trees) report progress that adds up to the number of objects, loose and packed alike; an
/// unreadable loose object is counted once, by the pass that reads blobs.
#[test]
fn progress_of_the_two_passes_adds_up_to_the_objects_loose_or_packed() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let repo = TestRepo::new();
    for i in 0..5 {
        repo.commit_file(&format!("dir/f{i}.txt"), format!("{i}\n"), "c");
    }
    let count = |packed: bool| {
        let list = objects::enumerate(&[repo.path.join(".git/objects")]).unwrap();
        let not_trees = KindSet::of(&[ObjectKind::Blob, ObjectKind::Commit, ObjectKind::Tag]);
        let mut total = 0;
        for kinds in [not_trees, KindSet::of(&[ObjectKind::Tree])] {
            let seen = AtomicU64::new(0);
            objects::read_objects(
                &repo.path.join(".git"),
                &list,
                kinds,
                2,
                &|done| {
                    seen.fetch_max(done, Ordering::Relaxed);
                },
                &|| (),
                &|_, _, _| {},
            )
            .unwrap();
            total += seen.load(Ordering::Relaxed);
        }
        assert_eq!(total, list.len() as u64, "packed: {packed}");
        list.len()
    };
    // 5 commits, 5 blobs, 10 trees, all loose.
    assert_eq!(count(false), 20);
    repo.git(&["gc", "-q"]);
    assert_eq!(count(true), 20);
}
