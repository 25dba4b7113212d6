//! The generic rule: a value with enough length and variety assigned to a name that says it is secret
//! (`DB_PASSWORD=`, `client_secret:`, `"apiKey":`), for the keys no provider rule knows. Lower confidence
//! than any provider rule: a provider rule that matches the same value wins.
//!
//! What counts as a secret name and a secret value is code, not a regex: `matching::assignment`.

use super::{Confidence, Pattern, Provider};

pub(crate) static GENERIC: Provider = Provider {
    id: "generic",
    name: "an unknown issuer",
    env_vars: &[],
    revoke_url: None,
    create_url: None,
    patterns: &[Pattern {
        id: "generic.secret-assignment",
        description: "Secret assigned to a secret-named key",
        details: "A value of 12 to 200 printable characters with letters, digits and enough variety, \
                  assigned to a name ending in KEY, TOKEN, SECRET or PASSWORD (`DB_PASSWORD=`, \
                  `client_secret:`, `\"apiKey\":`) in any syntax: `.env`, shell, YAML, JSON, TOML, INI, \
                  Python, Dockerfile. Placeholders, references to other variables, digests and names that \
                  hold no secret (`public_key`, `pad_token`, `max_tokens`) are skipped. Low confidence: \
                  no issuer is known, so liveness cannot be checked.",
        help: "Find out which service the value belongs to, rotate it there, move it out of the source \
               (an environment variable or a secret store), and remove it from history; if it is not a \
               secret, allowlist it by fingerprint in .unleak.toml.",
        prefixes: &[],
        regex: r"[!-~]{12,200}",
        names: &[],
        near: &[],
        confidence: Confidence::Low,
        examples: &[
            "DB_PASSWORD={alnum:20}",
            "client_secret: \"{url:32}\"",
            "\"apiKey\": \"{alnum:24}\"",
            "export SENTRY_AUTH_TOKEN={hex:64}",
            "SECRET_KEY = '{alnum:50}'",
        ],
        negatives: &[
            "api_key = \"sk-...\"",
            "API_KEY=xxxxxxxxxxxxxxxxxxxxxxxx",
            "API_KEY=<YOUR_API_KEY>",
            "OPENAI_API_KEY=your-api-key-here",
            "API_KEY=${{API_KEY}",
            "api_key = os.environ[\"API_KEY\"]",
            "API_TOKEN: ${{{{ secrets.API_TOKEN }}",
            "public_key: \"{b64:44}\"",
            "pad_token: \"<pad>\"",
            "max_tokens = 4096",
            "sha256: {hex:64}",
            "--hash=sha256:{hex:64}",
            "resolved \"https://example.invalid/pkg.tgz#{hex:40}\"",
            "\"id\": \"{hex:8}-{hex:4}-{hex:4}-{hex:4}-{hex:12}\"",
            "password = settings.DATABASE_PASSWORD",
            "token = get_token(user)",
            "secret_key_path: \"/etc/app/secret-{hex:12}.key\"",
        ],
    }],
    liveness: &[],
    unchecked: Some(
        "the issuer of a generic secret is unknown",
    ),
};
