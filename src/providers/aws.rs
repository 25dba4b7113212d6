//! AWS: access key ids, long-term (`AKIA`) and temporary (`ASIA`). The id is not the secret by itself, but
//! the secret access key is almost always written right beside it.

use super::{Confidence, Pattern, Provider};

pub(crate) static AWS: Provider = Provider {
    id: "aws",
    name: "Amazon Web Services",
    env_vars: &["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"],
    revoke_url: Some("https://console.aws.amazon.com/iam/home#/security_credentials"),
    create_url: Some("https://console.aws.amazon.com/iam/home#/security_credentials"),
    patterns: &[
        Pattern {
            id: "aws.access-key-id",
            description: "AWS access key id",
            details: "`AKIA` followed by 16 upper-case letters and digits: a long-term IAM access key id. \
                      The id alone grants nothing, but its secret access key is usually nearby, and the \
                      pair acts as the IAM user until deleted.",
            help: "Deactivate, then delete the access key in IAM (the user's Security credentials), check \
                   CloudTrail for its use, move the workload to a role with short-lived credentials if you \
                   can, and remove the key pair from history.",
            prefixes: &["AKIA"],
            regex: r"AKIA[A-Z0-9]{16}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["AKIA{upper:16}"],
            negatives: &[
                "AKIA{upper:15}",
                "AKIA{upper:17}",
                "XAKIA{upper:16}",
                "AKIA{upper:9}EXAMPLE",
                "AKIA{0*16}",
                "AKIA{lower:16}",
            ],
        },
        Pattern {
            id: "aws.temporary-access-key-id",
            description: "AWS temporary access key id",
            details: "`ASIA` followed by 16 upper-case letters and digits: an STS temporary access key id, \
                      valid with its secret and session token until the session expires (up to 36 hours).",
            help: "Revoke the role's active sessions (IAM, the role, Revoke active sessions), check \
                   CloudTrail for use, and find out how the session credentials were written down: whatever \
                   wrote them can leak the next ones too.",
            prefixes: &["ASIA"],
            regex: r"ASIA[A-Z0-9]{16}",
            names: &[],
            near: &[],
            confidence: Confidence::High,
            examples: &["ASIA{upper:16}"],
            negatives: &["EAST_ASIA_REGION", "ASIA{upper:8}", "ASIA{XY*8}"],
        },
        Pattern {
            id: "aws.secret-access-key",
            description: "AWS secret access key",
            details: "40 letters, digits, `/` and `+` assigned to `aws_secret_access_key` (the shared \
                      credentials file), `AWS_SECRET_ACCESS_KEY` or `SecretAccessKey`: the secret half of an \
                      access key pair, which signs requests as its IAM user or role.",
            help: "Deactivate, then delete the access key this secret belongs to in IAM (the user's \
                   Security credentials), check CloudTrail for its use, move the workload to a role with \
                   short-lived credentials if you can, and remove the key pair from history.",
            prefixes: &[],
            regex: r"[A-Za-z0-9/+]{40}",
            names: &[
                "aws_secret_access_key",
                "secret_access_key",
                "SecretAccessKey",
                "aws_secret_key",
            ],
            near: &[],
            confidence: Confidence::High,
            examples: &[
                "aws_secret_access_key = {b64:40}",
                "AWS_SECRET_ACCESS_KEY={b64:40}",
                "\"SecretAccessKey\": \"{b64:40}\"",
            ],
            negatives: &[
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCY{EXAMPLE*1}KEY",
                "AWS_SECRET_ACCESS_KEY=${{{{ secrets.AWS_SECRET_ACCESS_KEY }}",
                "aws_region = {b64:40}",
            ],
        },
    ],
    liveness: &[],
    unchecked: Some(
        "an AWS key is checked by a signed STS GetCallerIdentity call that needs both the key id and its secret; unleak does not sign AWS requests",
    ),
};
