//! The ML team's repository: the keys of every provider of the ML stack, in the places people keep them
//! (`.env`, notebooks, training scripts, YAML, `kaggle.json`, `.netrc`, Dockerfiles, compose, workflows,
//! Streamlit secrets, a base64 Kubernetes Secret, UTF-16 files), beside placeholders, digests, lockfile
//! ids, UUIDs and documented example keys that are not keys. `unleak audit` must find every key, name
//! its provider, and report nothing else. Recall and false positives are printed, then asserted.
//!
//! Every key is made at run time from a template (`providers::examples`), a different one per place.

use crate::util::*;
use base64::Engine;
use std::collections::BTreeMap;
use unleak::providers::examples::expand_with_seed;

/// A key kind of the corpus: the provider id its finding must carry, the name it is kept under, and
/// the template of its value.
struct Kind {
    provider: &'static str,
    name: &'static str,
    value: &'static str,
}

const KINDS: &[Kind] = &[
    Kind {
        provider: "huggingface",
        name: "HF_TOKEN",
        value: "hf_{alpha:34}",
    },
    Kind {
        provider: "huggingface",
        name: "HF_ORG_TOKEN",
        value: "api_org_{alpha:34}",
    },
    Kind {
        provider: "openai",
        name: "OPENAI_API_KEY",
        value: "sk-proj-{url:74}T3BlbkFJ{url:73}A",
    },
    Kind {
        provider: "openai",
        name: "OPENAI_API_KEY",
        value: "sk-svcacct-{url:58}T3BlbkFJ{url:57}z",
    },
    Kind {
        provider: "openai",
        name: "OPENAI_ADMIN_KEY",
        value: "sk-admin-{url:58}T3BlbkFJ{url:57}9",
    },
    Kind {
        provider: "openai",
        name: "OPENAI_API_KEY",
        value: "sk-{alnum:20}T3BlbkFJ{alnum:20}",
    },
    Kind {
        provider: "anthropic",
        name: "ANTHROPIC_API_KEY",
        value: "sk-ant-api03-{url:93}AA",
    },
    Kind {
        provider: "wandb",
        name: "WANDB_API_KEY",
        value: "{hex:40}",
    },
    Kind {
        provider: "replicate",
        name: "REPLICATE_API_TOKEN",
        value: "r8_{alnum:37}",
    },
    Kind {
        provider: "cohere",
        name: "COHERE_API_KEY",
        value: "{alnum:40}",
    },
    Kind {
        provider: "groq",
        name: "GROQ_API_KEY",
        value: "gsk_{alnum:52}",
    },
    Kind {
        provider: "mistral",
        name: "MISTRAL_API_KEY",
        value: "{alnum:32}",
    },
    Kind {
        provider: "langsmith",
        name: "LANGSMITH_API_KEY",
        value: "lsv2_pt_{hex:32}_{hex:10}",
    },
    Kind {
        provider: "pinecone",
        name: "PINECONE_API_KEY",
        value: "pcsk_{alnum:6}_{alnum:63}",
    },
    Kind {
        provider: "kaggle",
        name: "KAGGLE_KEY",
        value: "{hex:32}",
    },
    Kind {
        provider: "together",
        name: "TOGETHER_API_KEY",
        value: "tgp_v1_{url:43}",
    },
    Kind {
        provider: "deepseek",
        name: "DEEPSEEK_API_KEY",
        value: "sk-{hex:32}",
    },
    Kind {
        provider: "xai",
        name: "XAI_API_KEY",
        value: "xai-{alnum:80}",
    },
    Kind {
        provider: "openrouter",
        name: "OPENROUTER_API_KEY",
        value: "sk-or-v1-{hex:64}",
    },
    Kind {
        provider: "perplexity",
        name: "PERPLEXITY_API_KEY",
        value: "pplx-{alnum:48}",
    },
    Kind {
        provider: "fireworks",
        name: "FIREWORKS_API_KEY",
        value: "fw_{alnum:24}",
    },
    Kind {
        provider: "google",
        name: "GEMINI_API_KEY",
        value: "AIza{url:35}",
    },
    Kind {
        provider: "elevenlabs",
        name: "ELEVENLABS_API_KEY",
        value: "sk_{hex:48}",
    },
    Kind {
        provider: "tavily",
        name: "TAVILY_API_KEY",
        value: "tvly-dev-{alnum:32}",
    },
    Kind {
        provider: "voyage",
        name: "VOYAGE_API_KEY",
        value: "pa-{url:43}",
    },
    Kind {
        provider: "azure-openai",
        name: "AZURE_OPENAI_API_KEY",
        value: "{hex:32}",
    },
    Kind {
        provider: "aws",
        name: "AWS_ACCESS_KEY_ID",
        value: "AKIA{upper:16}",
    },
    Kind {
        provider: "aws",
        name: "AWS_SECRET_ACCESS_KEY",
        value: "{b64:39}7",
    },
    Kind {
        provider: "github",
        name: "GITHUB_TOKEN",
        value: "ghp_{alnum:36}",
    },
    Kind {
        provider: "comet",
        name: "COMET_API_KEY",
        value: "{alnum:25}",
    },
    Kind {
        provider: "neptune",
        name: "NEPTUNE_API_TOKEN",
        value: "eyJhcGlfYWRkcmVzcyI6{b64:120}",
    },
    // Secrets of no known issuer: the generic rule's.
    Kind {
        provider: "generic",
        name: "DB_PASSWORD",
        value: "{alnum:18}",
    },
    Kind {
        provider: "generic",
        name: "DJANGO_SECRET_KEY",
        value: "{url:49}Q",
    },
    Kind {
        provider: "generic",
        name: "SENTRY_AUTH_TOKEN",
        value: "{hex:64}",
    },
];

/// The places keys are kept, each rendering `NAME` = `value` in its own syntax.
const PLACES: &[&str] = &[
    ".env",
    ".env.local",
    "notebooks/explore.ipynb (code cell)",
    "notebooks/outputs.ipynb (output cell)",
    "train.py",
    "configs/train.yaml",
    "scripts/env.sh",
    "Dockerfile",
    "docker-compose.yml",
    ".github/workflows/train.yml",
    ".streamlit/secrets.toml",
    "app.py",
    "k8s/secret.yaml (base64)",
    "notes/keys.txt (UTF-16)",
];

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// One file's text for a place, with the keys given as (name, value).
fn render(place: &str, keys: &[(&str, String)]) -> (String, Vec<u8>) {
    let lines = |f: &dyn Fn(&str, &str) -> String| -> String {
        keys.iter()
            .map(|(n, v)| f(n, v))
            .collect::<Vec<_>>()
            .join("")
    };
    let path = place.split(' ').next().unwrap().to_string();
    let text = match place {
        ".env" => lines(&|n, v| format!("{n}={v}\n")),
        ".env.local" => lines(&|n, v| format!("export {n}=\"{v}\"\n")),
        "notebooks/explore.ipynb (code cell)" => {
            let source: Vec<String> = std::iter::once("import os\n".to_string())
                .chain(
                    keys.iter()
                        .map(|(n, v)| format!("os.environ[\"{n}\"] = \"{v}\"\n")),
                )
                .collect();
            serde_json::to_string_pretty(&serde_json::json!({
                "cells": [{"cell_type": "code", "source": source, "outputs": []}],
                "nbformat": 4, "nbformat_minor": 5, "metadata": {}
            }))
            .unwrap()
        }
        "notebooks/outputs.ipynb (output cell)" => {
            let out: Vec<String> = keys.iter().map(|(n, v)| format!("{n}={v}\n")).collect();
            serde_json::to_string_pretty(&serde_json::json!({
                "cells": [{"cell_type": "code", "source": ["!cat .env\n"],
                           "outputs": [{"output_type": "stream", "name": "stdout", "text": out}]}],
                "nbformat": 4, "nbformat_minor": 5, "metadata": {}
            }))
            .unwrap()
        }
        "train.py" => {
            "import os\nimport wandb\n\n".to_string()
                + &lines(&|n, v| match n {
                    "WANDB_API_KEY" => format!("wandb.login(key=\"{v}\")\n"),
                    "COHERE_API_KEY" => format!("co = cohere.Client(\"{v}\")\n"),
                    _ => format!("os.environ[\"{n}\"] = \"{v}\"\n"),
                })
        }
        "configs/train.yaml" => {
            "model: meta-llama/Llama-3.1-8B\nmax_tokens: 4096\nsecrets:\n".to_string()
                + &lines(&|n, v| format!("  {}: \"{v}\"\n", n.to_ascii_lowercase()))
        }
        "scripts/env.sh" => "#!/bin/sh\n".to_string() + &lines(&|n, v| format!("export {n}={v}\n")),
        "Dockerfile" => {
            "FROM python:3.12-slim\n".to_string()
                + &lines(&|n, v| format!("ENV {n} {v}\n"))
                + "CMD [\"python\", \"train.py\"]\n"
        }
        "docker-compose.yml" => {
            "services:\n  trainer:\n    image: trainer:latest\n    environment:\n".to_string()
                + &lines(&|n, v| format!("      - {n}={v}\n"))
        }
        ".github/workflows/train.yml" => {
            "on: push\njobs:\n  train:\n    runs-on: ubuntu-latest\n    env:\n".to_string()
                + &lines(&|n, v| format!("      {n}: {v}\n"))
                + "    steps:\n      - run: python train.py\n"
        }
        ".streamlit/secrets.toml" => lines(&|n, v| format!("{n} = \"{v}\"\n")),
        "app.py" => {
            "import os\n".to_string()
                + &lines(&|n, v| {
                    format!(
                        "os.environ.setdefault({}, {})\n",
                        json_string(n),
                        json_string(v)
                    )
                })
        }
        "k8s/secret.yaml (base64)" => {
            let b64 = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: trainer\ntype: Opaque\ndata:\n"
                .to_string()
                + &lines(&|n, v| format!("  {n}: {}\n", b64(v)))
        }
        "notes/keys.txt (UTF-16)" => {
            let plain = lines(&|n, v| format!("{n}={v}\r\n"));
            let mut bytes = vec![0xff, 0xfe];
            bytes.extend(plain.encode_utf16().flat_map(u16::to_le_bytes));
            return (path, bytes);
        }
        other => panic!("no place {other}"),
    };
    (path, text.into_bytes())
}

/// Places a kind is kept in the corpus: everywhere, but in a UTF-16 file only keys with a provider
/// prefix (UTF-16 is searched for prefixes; kaggle.json and .netrc are added on their own).
fn fits(kind: &Kind, place: &str) -> bool {
    let by_name_only = kind.value.starts_with('{') || kind.provider == "deepseek";
    place != "notes/keys.txt (UTF-16)" || !by_name_only
}

/// Text in the same repository that holds no key: every decoy must stay unreported.
fn decoys() -> Vec<(String, String)> {
    let hex = |n: usize, seed: u64| expand_with_seed(&format!("{{hex:{n}}}"), seed);
    let uuid = |seed: u64| expand_with_seed("{hex:8}-{hex:4}-{hex:4}-{hex:4}-{hex:12}", seed);
    vec![
        (
            ".env.example".into(),
            "OPENAI_API_KEY=sk-...\nHF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nWANDB_API_KEY=<YOUR_WANDB_KEY>\n\
             ANTHROPIC_API_KEY=your-api-key-here\nGROQ_API_KEY=${GROQ_API_KEY}\nDB_PASSWORD=changeme\n"
                .into(),
        ),
        (
            "docs/setup.md".into(),
            format!(
                "Set `export OPENAI_API_KEY=sk-...` and `MISTRAL_API_KEY=<key>`.\n\
                 In CI: `HF_TOKEN: ${{{{ secrets.HF_TOKEN }}}}`.\n\
                 AWS's documented example: aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
                 aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY{}KEY\n",
                "EXAMPLE"
            ),
        ),
        (
            "src/settings.py".into(),
            "import os\nWANDB_API_KEY = os.environ[\"WANDB_API_KEY\"]\napi_key = os.getenv(\"COHERE_API_KEY\")\n\
             SECRET_KEY = settings.SECRET_KEY\ntoken = get_token(user)\n"
                .into(),
        ),
        (
            "requirements.txt".into(),
            format!(
                "torch==2.5.1 --hash=sha256:{}\ntransformers==4.46.0 --hash=sha256:{}\n",
                hex(64, 1),
                hex(64, 2)
            ),
        ),
        (
            "SHA256SUMS".into(),
            format!("{}  model.safetensors\n{}  tokenizer.json\n", hex(64, 3), hex(64, 4)),
        ),
        (
            "data/train.csv.dvc".into(),
            format!("outs:\n- md5: {}\n  size: 1048576\n  path: train.csv\n", hex(32, 5)),
        ),
        (
            "Cargo.lock".into(),
            format!(
                "[[package]]\nname = \"tokenizers\"\nsource = \"git+https://example.invalid/tokenizers#{}\"\n",
                hex(40, 6)
            ),
        ),
        (
            "package-lock.json".into(),
            format!(
                "{{\"packages\": {{\"node_modules/x\": {{\"resolved\": \"git+ssh://git@example.invalid/x.git#{}\"}}}}}}\n",
                hex(40, 7)
            ),
        ),
        (
            "runs/meta.json".into(),
            format!(
                "{{\"id\": \"{}\", \"run_id\": \"{}\", \"revision\": \"{}\", \"sha\": \"{}\"}}\n",
                uuid(8),
                uuid(9),
                hex(40, 10),
                hex(40, 11)
            ),
        ),
        (
            "configs/tokenizer.yaml".into(),
            "pad_token: \"<pad>\"\neos_token: \"</s>\"\nmax_tokens: 4096\nnext_page_token: CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA0\n"
                .into(),
        ),
        (
            "keys/signing.pub.yaml".into(),
            format!("public_key: \"{}\"\n", expand_with_seed("{b64:43}=", 12)),
        ),
    ]
}

/// How the test names a planted key in the report: its fingerprint, or a generic secret's redaction
/// (its fingerprint may be keyed: a person's password is never hashed plainly into a report).
fn identity(provider: &str, value: &str) -> String {
    if provider == "generic" {
        format!(
            "generic:{}",
            unleak::secret::Secret::new(value, "corpus").redacted()
        )
    } else {
        unleak::secret::fingerprint(value.as_bytes())
    }
}

#[test]
fn ml_corpus_every_key_found_by_its_provider_and_no_decoy() {
    let repo = TestRepo::new();
    // planted: fingerprint -> (provider, place)
    let mut planted: BTreeMap<String, (&'static str, String)> = BTreeMap::new();
    let mut values: Vec<String> = Vec::new();
    let mut seed = 1000u64;
    let mut plant = |kind: &Kind, place: &str| -> String {
        seed += 1;
        let value = expand_with_seed(kind.value, seed);
        values.push(value.clone());
        planted.insert(
            identity(kind.provider, &value),
            (kind.provider, place.to_string()),
        );
        value
    };
    for place in PLACES {
        let keys: Vec<(&str, String)> = KINDS
            .iter()
            .filter(|k| fits(k, place))
            .map(|k| (k.name, plant(k, place)))
            .collect();
        let (path, bytes) = render(place, &keys);
        repo.write(&path, bytes);
    }
    let kaggle = plant(&KINDS[14], "kaggle.json");
    repo.write(
        "kaggle.json",
        format!("{{\"username\":\"ml-team\",\"key\":\"{kaggle}\"}}\n"),
    );
    let wandb = plant(&KINDS[7], ".netrc");
    let hf = plant(&KINDS[0], ".netrc");
    repo.write(
        ".netrc",
        format!("machine api.wandb.ai\n  login user\n  password {wandb}\nmachine huggingface.co login me password {hf}\n"),
    );
    let id = plant(&KINDS[26], "aws credentials");
    let secret = plant(&KINDS[27], "aws credentials");
    repo.write(
        "deploy/aws-credentials",
        format!("[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\nregion = us-east-1\n"),
    );
    for (path, text) in decoys() {
        repo.write(&path, text);
    }
    repo.git(&["add", "-A", "-f"]);
    repo.git(&["commit", "-qm", "ML project"]);

    let run = Unleak::new(&repo.path)
        .args(&["audit", "--format", "json", "--exit-zero"])
        .run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();

    // reported: fingerprint -> provider of the rule
    let mut reported: BTreeMap<String, String> = BTreeMap::new();
    for finding in report["findings"].as_array().unwrap() {
        // In local history (not pushed): medium for a provider's key, one step lower for the generic
        // rule's finding, which may not be a key at all.
        let generic = finding["rule"] == "generic.secret-assignment";
        assert_eq!(
            finding["severity"],
            if generic { "low" } else { "medium" },
            "{finding:#}"
        );
        let provider = finding["rule"]
            .as_str()
            .and_then(|r| r.split('.').next())
            .unwrap_or("none")
            .to_string();
        let fingerprint = finding["secret"]["fingerprint"].as_str().unwrap();
        let key = if fingerprint.starts_with("sha256:") && provider != "generic" {
            fingerprint.to_string()
        } else {
            format!(
                "generic:{}",
                finding["secret"]["redacted"].as_str().unwrap()
            )
        };
        reported.insert(key, provider);
    }
    let mut missed = Vec::new();
    let mut mislabeled = Vec::new();
    for (fingerprint, (provider, place)) in &planted {
        match reported.get(fingerprint) {
            None => missed.push(format!("{provider} in {place}")),
            Some(found) if found != provider => {
                mislabeled.push(format!("{provider} in {place} reported as {found}"))
            }
            Some(_) => {}
        }
    }
    let false_positives: Vec<&String> = reported
        .iter()
        .filter(|(f, _)| !planted.contains_key(*f))
        .map(|(_, p)| p)
        .collect();
    let generic_found = planted
        .iter()
        .filter(|(f, (p, _))| *p == "generic" && reported.contains_key(*f))
        .count();
    let generic_reported = reported.values().filter(|p| *p == "generic").count();
    eprintln!(
        "ML corpus: {} keys planted in {} places ({} providers); recall {}/{} ({:.1}%), {} mislabeled, \
         {} false positive(s); generic rule precision {}/{}",
        planted.len(),
        PLACES.len() + 3,
        KINDS.iter().map(|k| k.provider).collect::<std::collections::BTreeSet<_>>().len(),
        planted.len() - missed.len(),
        planted.len(),
        100.0 * (planted.len() - missed.len()) as f64 / planted.len() as f64,
        mislabeled.len(),
        false_positives.len(),
        generic_found,
        generic_reported,
    );
    assert!(missed.is_empty(), "missed: {missed:#?}");
    assert!(mislabeled.is_empty(), "mislabeled: {mislabeled:#?}");
    assert!(
        false_positives.is_empty(),
        "false positives: {false_positives:?}"
    );
    for value in &values {
        run.assert_hides(value);
    }
}
