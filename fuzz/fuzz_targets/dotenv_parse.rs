//! The .env parser on arbitrary bytes: never panics, and writing back what it read gives the same bytes
//! (format-preserving), also after setting a key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unleak::dotenv::DotEnv;

fuzz_target!(|data: &[u8]| {
    let mut env = DotEnv::parse(data);
    assert_eq!(env.to_bytes(), data, "round trip");
    let _ = env.entries();
    let _ = env.duplicate_keys();
    let _ = env.invalid_lines();
    let again = DotEnv::parse(&env.to_bytes());
    assert_eq!(again.entries(), env.entries());
    env.strip_bom();
    let _ = DotEnv::parse(&env.to_bytes()).entries();
});
