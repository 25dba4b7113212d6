//! The loose-object path of the object pass on an arbitrary file: whatever the bytes (zlib or not, any
//! header, any declared size), the pass ends, reports the object unreadable or reads it, and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unleak::git::odb;
use unleak::matching::exact::Matcher;
use unleak::scan::objects;
use unleak::secret::Secret;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let objects_dir = dir.path().join("objects");
    let fan = objects_dir.join("ab");
    std::fs::create_dir_all(&fan).unwrap();
    std::fs::create_dir_all(objects_dir.join("pack")).unwrap();
    std::fs::write(fan.join("cdef0123456789abcdef0123456789abcdef01"), data).unwrap();
    // A minimal git directory around it, so libgit2 (or our own reader) can open it.
    std::fs::create_dir_all(dir.path().join("refs/heads")).unwrap();
    std::fs::write(dir.path().join("HEAD"), "ref: refs/heads/main\n").unwrap();
    let list = odb::enumerate(&[objects_dir]).unwrap();
    // A fake token built at run time, not a token-shaped literal.
    let fake = format!("hf_{}", "fuzz".repeat(8) + "xy");
    let matcher = Matcher::new(&[Secret::new(fake.as_str(), "fuzz")]);
    let _ = objects::bulk_pass(dir.path(), &list, &matcher, None, 1, &|_| {});
});
