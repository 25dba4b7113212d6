//! PyPI: API tokens (`pypi-` and a macaroon whose first bytes name pypi.org).

use super::{Confidence, Pattern, Provider};

pub(crate) static PYPI: Provider = Provider {
    id: "pypi",
    name: "PyPI",
    env_vars: &["PYPI_TOKEN", "PYPI_API_TOKEN", "TWINE_PASSWORD", "UV_PUBLISH_TOKEN"],
    revoke_url: Some("https://pypi.org/manage/account/"),
    create_url: Some("https://pypi.org/manage/account/token/"),
    patterns: &[Pattern {
        id: "pypi.upload-token",
        description: "PyPI API token",
        details: "`pypi-AgEIcHlwaS5vcmc` (a macaroon issued by pypi.org) and 50 or more letters, digits, `_` \
                  or `-`: an upload token, for one project or for every project of its owner.",
        help: "Remove the token under Account settings, API tokens on https://pypi.org (PyPI also revokes \
               tokens reported to it by GitHub secret scanning), check your projects' release history, \
               prefer Trusted Publishing over long-lived tokens, and remove the old token from history.",
        prefixes: &["pypi-AgEIcHlwaS5vcmc"],
        regex: r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",
        names: &[],
        near: &[],
        confidence: Confidence::High,
        examples: &["pypi-AgEIcHlwaS5vcmc{url:150}", "pypi-AgEIcHlwaS5vcmc{alnum:50}"],
        negatives: &[
            "pypi-AgEIcHlwaS5vcmc{url:20}",
            "pypi-AgENdGVzdC5weXBpLm9yZw{url:150}",
            "pypi-AgEIcHlwaS5vcmc{x*60}",
        ],
    }],
    liveness: &[],
    unchecked: Some(
        "PyPI has no read-only call for an API token",
    ),
};
