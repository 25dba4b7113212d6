//! Private keys in PEM and OpenSSH armor (`-----BEGIN ... PRIVATE KEY-----`), including ones stored as a
//! JSON string with `\n` escapes (Google service account files).

use super::{Confidence, Pattern, Provider};

pub(crate) static PRIVATE_KEY: Provider = Provider {
    id: "private-key",
    name: "Private key",
    env_vars: &["SSH_PRIVATE_KEY", "PRIVATE_KEY", "GPG_PRIVATE_KEY"],
    revoke_url: None,
    create_url: None,
    patterns: &[Pattern {
        id: "private-key.pem",
        description: "Private key block",
        details: "A `-----BEGIN ... PRIVATE KEY-----` block (RSA, DSA, EC, OpenSSH, PKCS #8, encrypted or \
                  PGP) with at least 64 characters of key material up to its END line. An encrypted key \
                  still needs its passphrase, but passphrases fall to offline guessing.",
        help: "Find what trusts the key (servers' authorized_keys, a cloud service account, a TLS \
               certificate, a signing setup), generate a new key pair, replace the public half everywhere, \
               revoke or delete the old one (and its certificate or service account key), and remove the \
               block from history.",
        prefixes: &["-----BEGIN "],
        regex: r"-----BEGIN (?:(?:RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s:,.\\-]{64,}?-----END (?:(?:RSA|DSA|EC|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----",
        names: &[],
        near: &[],
        confidence: Confidence::High,
        examples: &[
            "-----BEGIN RSA PRIVATE KEY-----\n{b64:64}\n{b64:64}\n{b64:40}==\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\\n{b64:64}\\n{b64:30}\\n-----END PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----\r\n{b64:70}\r\n{b64:70}\r\n-----END OPENSSH PRIVATE KEY-----",
            // The fixed header of an unencrypted OpenSSH key: `openssh-key-v1`, cipher and KDF `none`.
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n{b64:70}\n{b64:70}\n-----END OPENSSH PRIVATE KEY-----",
        ],
        negatives: &[
            "-----BEGIN PUBLIC KEY-----\n{b64:64}\n{b64:64}\n-----END PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----\n{b64:64}\n{b64:64}\n-----END CERTIFICATE-----",
            "-----BEGIN RSA PRIVATE KEY-----\n{b64:64}\n{b64:64}\n",
            "-----BEGIN PRIVATE KEY-----\n<your key here>\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\n{.*80}\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\n{A*80}\n-----END PRIVATE KEY-----",
        ],
    }],
    liveness: &[],
    unchecked: Some(
        "a private key is checked where it is trusted (a server, a signing service), not at one issuer",
    ),
};
