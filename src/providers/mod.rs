//! What we know about each token issuer, as data: patterns, the environment variables tokens are kept
//! under, and where to revoke and create them.

/// How sure a pattern match is to be a real token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// A token issuer.
#[derive(Debug)]
pub struct Provider {
    pub id: &'static str,
    pub name: &'static str,
    /// Environment variable names the token is usually kept under.
    pub env_vars: &'static [&'static str],
    /// Where a user revokes a token by hand.
    pub revoke_url: Option<&'static str>,
    /// Where a user creates a new one, with least privilege preselected where the issuer allows it.
    pub create_url: Option<&'static str>,
    pub patterns: &'static [Pattern],
}

/// One token shape of a provider.
#[derive(Debug)]
pub struct Pattern {
    /// Stable rule id, used in reports, SARIF and allowlists (`huggingface.user-token`).
    pub id: &'static str,
    pub description: &'static str,
    /// A regex (Rust `regex` syntax) matching the whole token.
    pub regex: &'static str,
    pub confidence: Confidence,
}

pub static HUGGING_FACE: Provider = Provider {
    id: "huggingface",
    name: "Hugging Face",
    env_vars: &[
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HUGGINGFACEHUB_API_TOKEN",
    ],
    revoke_url: Some("https://huggingface.co/settings/tokens"),
    create_url: Some("https://huggingface.co/settings/tokens/new?tokenType=fineGrained"),
    patterns: &[
        Pattern {
            id: "huggingface.user-token",
            description: "Hugging Face user access token",
            regex: r"hf_[A-Za-z]{34}",
            confidence: Confidence::High,
        },
        Pattern {
            id: "huggingface.user-token-alnum",
            description: "Hugging Face user access token (letters and digits)",
            regex: r"hf_[A-Za-z0-9]{34}",
            confidence: Confidence::Medium,
        },
        Pattern {
            id: "huggingface.org-token",
            description: "Hugging Face organization API token (legacy)",
            regex: r"api_org_[A-Za-z0-9]{34}",
            confidence: Confidence::High,
        },
    ],
};

/// Every provider we know, Hugging Face first.
pub fn all() -> &'static [&'static Provider] {
    static ALL: [&Provider; 1] = [&HUGGING_FACE];
    &ALL
}

/// The provider whose pattern matches the whole value, if any.
pub fn identify(value: &str) -> Option<&'static Provider> {
    all().iter().copied().find(|p| {
        p.patterns.iter().any(|pat| {
            regex::Regex::new(&format!("^(?:{})$", pat.regex))
                .map(|re| re.is_match(value))
                .unwrap_or(false)
        })
    })
}
