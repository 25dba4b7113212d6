//! The renderers of the one report model (`model::Report`, for every command that finds things: scan,
//! audit, verify). They only render: `human` for people, `json` and `sarif` for machines. No secret
//! value can reach the model: it holds redactions and fingerprints only.

pub(crate) mod human;
pub(crate) mod json;
pub mod sarif;

use crate::model::Report;

/// The output formats a report renders to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// For people: grouped by token, then by introducing commit.
    Human,
    /// One JSON document (docs/report-format.md).
    Json,
    /// SARIF 2.1.0 for GitHub code scanning (docs/sarif.md).
    Sarif,
}

/// Renders a report in the chosen format; the one place commands go through. `rules` are those the
/// search ran with: SARIF describes each (an audit's custom rules too).
pub fn render(
    report: &Report,
    rules: &crate::providers::Rules,
    format: Format,
    style: human::Style,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Human => human::render(report, style, out),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render_with(report, rules, out),
    }
}
