//! Liveness for the ML stack's issuers: each documented read-only call, against a loopback stand-in,
//! says live or dead; rate limits, server errors, redirects and silence say "unknown" and why; a key is
//! never sent to a host other than its issuer (or a loopback stand-in).

use crate::api_stub::{ApiStub, DeadAnswer, Mode};
use crate::util::*;
use serde_json::json;
use unleak::providers::examples::expand_with_seed;

/// A rule, the key name and value template a file keeps it under, the base override, the dead answer,
/// and how the report names the call.
struct Check {
    rule: &'static str,
    name: &'static str,
    value: &'static str,
    var: &'static str,
    dead: DeadAnswer,
    call: &'static str,
}

const CHECKS: &[Check] = &[
    Check {
        rule: "wandb.api-key",
        name: "WANDB_API_KEY",
        value: "{hex:40}",
        var: "UNLEAK_WANDB_API_URL",
        dead: DeadAnswer::Unauthorized,
        call: "Weights & Biases POST /graphql",
    },
    Check {
        rule: "cohere.api-key",
        name: "COHERE_API_KEY",
        value: "{alnum:40}",
        var: "UNLEAK_COHERE_API_URL",
        dead: DeadAnswer::Unauthorized,
        call: "Cohere POST /v1/check-api-key",
    },
    Check {
        rule: "groq.api-key",
        name: "GROQ_API_KEY",
        value: "gsk_{alnum:52}",
        var: "UNLEAK_GROQ_API_URL",
        dead: DeadAnswer::Unauthorized,
        call: "Groq GET /openai/v1/models",
    },
    Check {
        rule: "mistral.api-key",
        name: "MISTRAL_API_KEY",
        value: "{alnum:32}",
        var: "UNLEAK_MISTRAL_API_URL",
        dead: DeadAnswer::Unauthorized,
        call: "Mistral AI GET /v1/models",
    },
    Check {
        rule: "deepseek.api-key",
        name: "DEEPSEEK_API_KEY",
        value: "sk-{hex:32}",
        var: "UNLEAK_DEEPSEEK_API_URL",
        dead: DeadAnswer::Unauthorized,
        call: "DeepSeek GET /user/balance",
    },
    Check {
        rule: "xai.api-key",
        name: "XAI_API_KEY",
        value: "xai-{alnum:80}",
        var: "UNLEAK_XAI_API_URL",
        dead: DeadAnswer::Unauthorized,
        call: "xAI GET /v1/api-key",
    },
    Check {
        rule: "openrouter.api-key",
        name: "OPENROUTER_API_KEY",
        value: "sk-or-v1-{hex:64}",
        var: "UNLEAK_OPENROUTER_API_URL",
        dead: DeadAnswer::Unauthorized,
        call: "OpenRouter GET /api/v1/key",
    },
    Check {
        rule: "tavily.api-key",
        name: "TAVILY_API_KEY",
        value: "tvly-{alnum:32}",
        var: "UNLEAK_TAVILY_API_URL",
        dead: DeadAnswer::Unauthorized,
        call: "Tavily GET /usage",
    },
    Check {
        rule: "elevenlabs.api-key",
        name: "ELEVENLABS_API_KEY",
        value: "sk_{hex:48}",
        var: "UNLEAK_ELEVENLABS_API_URL",
        dead: DeadAnswer::Unauthorized,
        call: "ElevenLabs GET /v1/user",
    },
    Check {
        rule: "pinecone.api-key",
        name: "PINECONE_API_KEY",
        value: "pcsk_{alnum:6}_{alnum:63}",
        var: "UNLEAK_PINECONE_API_URL",
        dead: DeadAnswer::Unauthorized,
        call: "Pinecone GET /indexes",
    },
    Check {
        rule: "langsmith.api-key",
        name: "LANGSMITH_API_KEY",
        value: "lsv2_pt_{hex:32}_{hex:10}",
        var: "UNLEAK_LANGSMITH_API_URL",
        dead: DeadAnswer::Unauthorized,
        call: "LangSmith GET /api/v1/api-key",
    },
    Check {
        rule: "replicate.api-token",
        name: "REPLICATE_API_TOKEN",
        value: "r8_{alnum:37}",
        var: "UNLEAK_REPLICATE_API_URL",
        dead: DeadAnswer::Unauthorized,
        call: "Replicate GET /v1/account",
    },
    Check {
        rule: "google.api-key",
        name: "GEMINI_API_KEY",
        value: "AIza{url:35}",
        var: "UNLEAK_GOOGLE_API_URL",
        dead: DeadAnswer::BadRequest,
        call: "Google Cloud GET /v1/models",
    },
    Check {
        rule: "openai.admin-key",
        name: "OPENAI_ADMIN_KEY",
        value: "sk-admin-{url:58}T3BlbkFJ{url:57}9",
        var: "UNLEAK_OPENAI_API_URL",
        dead: DeadAnswer::Unauthorized,
        call: "OpenAI GET /v1/organization/admin_api_keys",
    },
];

fn fingerprint(value: &str) -> String {
    unleak::secret::fingerprint(value.as_bytes())
}

#[test]
fn ml_liveness_every_issuer_read_only_live_and_dead() {
    let repo = TestRepo::new();
    let mut cmd =
        Unleak::new(&repo.path).args(&["audit", "--format", "json", "--verify", "--exit-zero"]);
    let mut stubs = Vec::new();
    let mut expected = Vec::new();
    let mut values = Vec::new();
    for (i, check) in CHECKS.iter().enumerate() {
        let live = expand_with_seed(check.value, 2 * i as u64 + 1);
        let dead = expand_with_seed(check.value, 2 * i as u64 + 2);
        let stub = ApiStub::start(check.dead);
        stub.add_live(
            &live,
            json!({"username": "ada", "name": "key-1", "valid": true}),
        );
        repo.write(
            &format!("config/{i}.env"),
            format!("{}={live}\n", check.name),
        );
        repo.write(
            &format!("config/{i}-old.env"),
            format!("{}={dead}\n", check.name),
        );
        cmd = cmd.env(check.var, &stub.endpoint);
        expected.push((fingerprint(&live), "live", check));
        values.push(live);
        values.push(dead);
        stubs.push((stub, check));
    }
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "Keys"]);
    let run = cmd.run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    for value in &values {
        run.assert_hides(value);
    }
    let report = run.json();
    let secrets = report["secrets"].as_array().unwrap();
    for (fp, label, check) in &expected {
        let s = secrets
            .iter()
            .find(|s| s["secret"]["fingerprint"] == fp.as_str())
            .unwrap_or_else(|| panic!("{}: not reported:\n{}", check.rule, run.stdout));
        assert_eq!(s["live"], *label, "{}: {s}", check.rule);
        let reason = s["live_reason"].as_str().unwrap();
        assert!(reason.starts_with(check.call), "{}: {reason}", check.rule);
    }
    for (stub, check) in &stubs {
        let requests = stub.requests();
        assert_eq!(requests.len(), 2, "{}: {requests:?}", check.rule);
        let post = check.call.contains(" POST ");
        for r in &requests {
            assert_eq!(
                r.method,
                if post { "POST" } else { "GET" },
                "{}",
                check.rule
            );
            assert!(
                check.call.ends_with(r.path.split('?').next().unwrap()),
                "{}: {}",
                check.rule,
                r.path
            );
        }
        assert!(stub.revokes().is_empty(), "audit never revokes");
    }
    // The dead half of each pair: named dead by the same call.
    let dead: Vec<_> = secrets.iter().filter(|s| s["live"] == "dead").collect();
    assert_eq!(dead.len(), CHECKS.len(), "{}", run.stdout);
    // W&B's read-only GraphQL query, with the key as basic auth's password.
    let wandb = &stubs[0].0.requests()[0];
    assert!(wandb.body.contains("viewer"), "{}", wandb.body);
    assert!(wandb.header("authorization").unwrap().starts_with("Basic "));
}

#[test]
fn ml_liveness_unknown_says_why_and_a_key_goes_to_its_issuer_only() {
    let key = expand_with_seed("gsk_{alnum:52}", 7);
    let repo = TestRepo::new();
    repo.commit_file("app.env", format!("GROQ_API_KEY={key}\n"), "Key");
    let audit = |endpoint: &str, timeout: &str| {
        let run = Unleak::new(&repo.path)
            .args(&["audit", "--format", "json", "--verify", "--exit-zero"])
            .env("UNLEAK_GROQ_API_URL", endpoint)
            .env("UNLEAK_HTTP_TIMEOUT", timeout)
            .run();
        run.assert_hides(&key);
        run
    };
    let reason = |run: &Run| -> String {
        let report = run.json();
        let s = &report["secrets"][0];
        assert_eq!(s["live"], "unknown", "{s}");
        s["live_reason"].as_str().unwrap().to_string()
    };
    let stub = ApiStub::start(DeadAnswer::Unauthorized);
    for (mode, expected) in [
        (Mode::RateLimited, "rate-limited"),
        (Mode::IdentityStatus(403), "answered 403"),
        (Mode::IdentityStatus(500), "answered 500"),
        (Mode::IdentityStatus(302), "answered 302"),
        (Mode::Hang, "timeout"),
    ] {
        stub.set_mode(mode);
        let run = audit(&stub.endpoint, "2");
        let why = reason(&run);
        assert!(why.contains(expected), "{mode:?}: {why}");
    }
    // A redirect is not followed: every request reached the stand-in, none went on.
    assert!(stub
        .requests()
        .iter()
        .all(|r| r.path == "/openai/v1/models"));

    // An override that is not a loopback stand-in is refused before anything is sent.
    let run = audit("https://api.groq.example.net", "2");
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("not a loopback test server"),
        "{}",
        run.stderr
    );
}

#[test]
fn ml_liveness_no_check_names_the_reason() {
    let repo = TestRepo::new();
    let key = expand_with_seed("pplx-{alnum:48}", 3);
    repo.commit_file("a.env", format!("PERPLEXITY_API_KEY={key}\n"), "Key");
    let run = Unleak::new(&repo.path)
        .args(&["audit", "--format", "json", "--verify", "--exit-zero"])
        .run();
    run.assert_hides(&key);
    let report = run.json();
    let s = &report["secrets"][0];
    assert_eq!(s["live"], "unknown", "{s}");
    assert!(
        s["live_reason"]
            .as_str()
            .unwrap()
            .contains("every call is billed"),
        "{s}"
    );
}
