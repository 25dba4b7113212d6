//! Azure OpenAI: resource keys, 32 hex digits (or the newer 84-character keys), found by the key name.

use super::{Confidence, Pattern, Provider};

const HELP: &str = "Regenerate the key in the Azure portal (the Azure OpenAI resource, Resource Management, Keys and Endpoint: Regenerate Key 1 or 2, the one that leaked), update the apps that use it (or move them to Microsoft Entra ID auth), and remove the old key from history.";

pub(crate) static AZURE_OPENAI: Provider = Provider {
    id: "azure-openai",
    name: "Azure OpenAI",
    env_vars: &["AZURE_OPENAI_API_KEY", "AZURE_OPENAI_KEY"],
    revoke_url: Some("https://portal.azure.com/#view/Microsoft_Azure_ProjectOxford/CognitiveServicesHub/~/OpenAI"),
    create_url: Some("https://portal.azure.com/#view/Microsoft_Azure_ProjectOxford/CognitiveServicesHub/~/OpenAI"),
    patterns: &[
        Pattern {
            id: "azure-openai.api-key",
            description: "Azure OpenAI key",
            details: "32 hex digits, or 84 letters and digits, assigned to `AZURE_OPENAI_API_KEY` or `AZURE_OPENAI_KEY`: a key of an Azure OpenAI resource, which spends its deployments' quota.",
            help: HELP,
            prefixes: &[],
            regex: r#"[0-9a-f]{32}|[A-Za-z0-9]{84}"#,
            names: &["AZURE_OPENAI_API_KEY", "AZURE_OPENAI_KEY"],
            near: &[],
            confidence: Confidence::High,
            examples: &["AZURE_OPENAI_API_KEY={hex:32}", "AZURE_OPENAI_KEY=\"{alnum:84}\""],
            negatives: &["AZURE_OPENAI_ENDPOINT=https://example.openai.azure.com/", "AZURE_OPENAI_API_KEY=<key>"],
        },
    ],
    liveness: &[],
    unchecked: Some(
        "an Azure OpenAI key is checked against its own resource's endpoint (https://RESOURCE.openai.azure.com), which the key does not name",
    ),
};
