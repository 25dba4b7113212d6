//! Stripe: live secret keys (`sk_live_`) and live restricted keys (`rk_live_`). Test-mode keys move no
//! money and are not reported.

use super::{Auth, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str = "Roll the key at https://dashboard.stripe.com/apikeys (Roll key, with no grace period \
if it may be in use by someone else), review the Developers logs for requests you do not recognize, \
prefer a restricted key with only the permissions needed, and remove the old key from history.";

pub(crate) static STRIPE: Provider = Provider {
    id: "stripe",
    name: "Stripe",
    env_vars: &["STRIPE_SECRET_KEY", "STRIPE_API_KEY"],
    revoke_url: Some("https://dashboard.stripe.com/apikeys"),
    create_url: Some("https://dashboard.stripe.com/apikeys"),
    patterns: &[
        Pattern {
            id: "stripe.secret-key",
            description: "Stripe live secret key",
            details: "`sk_live_` followed by 24 or more letters and digits: a live-mode secret key, with \
                      full access to the account's API (charges, refunds, payouts, customer data).",
            help: HELP,
            prefixes: &["sk_live_"],
            regex: r"sk_live_[A-Za-z0-9]{24,}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["sk_live_{alnum:24}", "sk_live_51{alnum:97}"],
            negatives: &[
                "sk_test_{alnum:24}",
                "sk_live_{alnum:20}",
                "sk_live_{X*24}",
                "STRIPE_SECRET_KEY=sk_live_...",
            ],
        },
        Pattern {
            id: "stripe.restricted-key",
            description: "Stripe live restricted key",
            details: "`rk_live_` followed by 24 or more letters and digits: a live-mode restricted key, \
                      with the permissions chosen when it was created.",
            help: HELP,
            prefixes: &["rk_live_"],
            regex: r"rk_live_[A-Za-z0-9]{24,}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["rk_live_{alnum:99}"],
            negatives: &["rk_test_{alnum:99}", "rk_live_{ab*20}"],
        },
    ],
    liveness: &[&STRIPE_CHECK],
    unchecked: None,
};

/// `GET /v1/balance` reads the balance: 200 live, 401 invalid or rolled; a restricted key without the
/// balance permission gets 403, and is live too.
static STRIPE_CHECK: IdentityCheck = IdentityCheck {
    rules: &["stripe.secret-key", "stripe.restricted-key"],
    base_env: "UNLEAK_STRIPE_API_URL",
    any_host: false,
    default_base: "https://api.stripe.com",
    post: false,
    body: "",
    path: "/v1/balance",
    auth: Auth::Bearer,
    headers: &[],
    live: &[200, 403],
    dead: &[401],
    owner_field: None,
    body_ok: None,
};
