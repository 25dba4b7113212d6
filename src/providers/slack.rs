//! Slack: bot, user, app-level and other `xox?-` tokens, and incoming webhook URLs.

use super::{Auth, BodyOk, Confidence, IdentityCheck, Pattern, Provider};

const HELP: &str = "Revoke the token at https://api.slack.com/apps (the app's OAuth & Permissions page, \
Revoke tokens, or Reinstall to rotate; app-level tokens under Basic Information), check the workspace's \
access logs, and remove the token from history.";

pub(crate) static SLACK: Provider = Provider {
    id: "slack",
    name: "Slack",
    env_vars: &[
        "SLACK_BOT_TOKEN",
        "SLACK_TOKEN",
        "SLACK_USER_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_WEBHOOK_URL",
    ],
    revoke_url: Some("https://api.slack.com/apps"),
    create_url: Some("https://api.slack.com/apps"),
    patterns: &[
        Pattern {
            id: "slack.bot-token",
            description: "Slack bot token",
            details: "`xoxb-`, two numeric ids and 24 to 34 letters and digits: a bot user's OAuth token, \
                      acting as the bot in its workspace with the app's bot scopes.",
            help: HELP,
            prefixes: &["xoxb-"],
            regex: r"xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24,34}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["xoxb-{digits:12}-{digits:13}-{alnum:24}"],
            negatives: &[
                "xoxb-{digits:12}-{alnum:24}",
                "xoxb-{digits:12}-{digits:13}-{x*24}",
                "SLACK_BOT_TOKEN=xoxb-your-token",
            ],
        },
        Pattern {
            id: "slack.user-token",
            description: "Slack user token",
            details: "`xoxp-` (or `xoxe-`), three numeric ids and 28 to 34 letters and digits: a user's \
                      OAuth token, which reads and posts as that person.",
            help: HELP,
            prefixes: &["xoxp-", "xoxe-"],
            regex: r"xox[pe]-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{28,34}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &[
                "xoxp-{digits:11}-{digits:12}-{digits:13}-{hex:32}",
                "xoxe-{digits:10}-{digits:10}-{digits:10}-{alnum:28}",
            ],
            negatives: &["xoxp-{digits:11}-{digits:12}-{hex:32}", "xoxp-{digits:11}"],
        },
        Pattern {
            id: "slack.other-token",
            description: "Slack workspace, refresh or session token",
            details: "`xoxa-`, `xoxr-`, `xoxs-` or `xoxo-`, numeric parts and 24 to 64 letters and digits: \
                      the less common Slack token kinds (legacy workspace app, refresh and session tokens).",
            help: HELP,
            prefixes: &["xoxa-", "xoxr-", "xoxs-", "xoxo-"],
            regex: r"xox[aors]-(?:[0-9]{1,13}-){1,4}[A-Za-z0-9]{24,64}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &[
                "xoxa-2-{digits:12}-{digits:12}-{digits:12}-{hex:64}",
                "xoxr-{digits:12}-{alnum:30}",
            ],
            negatives: &["xoxa-{alnum:30}", "xoxs-1-{z*40}"],
        },
        Pattern {
            id: "slack.app-level-token",
            description: "Slack app-level token",
            details: "`xapp-`, a version digit, an app id, a number and 64 hex digits: an app-level token, \
                      used for Socket Mode and app-wide APIs.",
            help: HELP,
            prefixes: &["xapp-"],
            regex: r"xapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,13}-[a-f0-9]{64}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["xapp-1-A{upper:10}-{digits:13}-{hex:64}"],
            negatives: &["xapp-1-A{upper:10}-{digits:13}-{hex:63}", "xapp-token"],
        },
        Pattern {
            id: "slack.webhook-url",
            description: "Slack incoming webhook URL",
            details: "`hooks.slack.com/services/` (or `workflows/`, `triggers/`) and its secret path: \
                      anyone holding the URL can post to the channel it was made for.",
            help: "Remove the webhook (the app's Incoming Webhooks page on https://api.slack.com/apps, or \
                   the workflow's trigger), create a new one, and remove the old URL from history.",
            prefixes: &["hooks.slack.com/"],
            regex: r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &[
                "hooks.slack.com/services/T{upper:8}/B{upper:10}/{alnum:24}",
                "hooks.slack.com/triggers/T{upper:8}/{digits:10}/{hex:32}",
            ],
            negatives: &[
                "https://hooks.slack.com/services/T{0*8}/B{0*8}/{X*24}",
                "https://hooks.slack.com/services/",
                "hooks.slack.com/apps/T{upper:8}/B{upper:10}/{alnum:24}",
            ],
        },
    ],
    liveness: &[&SLACK_CHECK],
    unchecked: None,
};

/// `auth.test` (a POST that only reads): always 200, with `ok` false and an error naming why a token is dead.
static SLACK_CHECK: IdentityCheck = IdentityCheck {
    rules: &["slack.bot-token", "slack.user-token"],
    base_env: "UNLEAK_SLACK_API_URL",
    any_host: false,
    default_base: "https://slack.com/api",
    post: true,
    body: "",
    path: "/auth.test",
    auth: Auth::Bearer,
    headers: &[],
    live: &[200],
    dead: &[401],
    owner_field: Some("user"),
    body_ok: Some(BodyOk {
        field: "ok",
        error_field: "error",
        dead_errors: &[
            "invalid_auth",
            "not_authed",
            "token_revoked",
            "token_expired",
            "account_inactive",
        ],
    }),
};
