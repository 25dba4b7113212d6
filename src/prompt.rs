//! Questions to the user go through the [`Prompter`] trait, so tests script the answers and a run without
//! a terminal fails with the name of the flag that answers the question instead of hanging. Whether a run
//! asks at all is decided once, by `config` ([`PromptMode`]), and the command makes its prompter from it.

use crate::secret::Secret;
use anyhow::{bail, Result};
use std::collections::VecDeque;
use std::io::{BufRead, IsTerminal};

/// Asks the user things. Every question names the flag that answers it non-interactively.
pub trait Prompter {
    /// Reads a secret without echo. With `confirm`, asks twice and insists the two match.
    fn secret(&mut self, question: &str, confirm: bool, flag: &str) -> Result<Secret>;
    /// A yes/no question.
    fn confirm(&mut self, question: &str, default: bool, flag: &str) -> Result<bool>;
    /// Picks one of `choices`; returns its index.
    fn select(
        &mut self,
        question: &str,
        choices: &[&str],
        default: usize,
        flag: &str,
    ) -> Result<usize>;
}

/// Whether this run asks its questions at a terminal, chosen once when the configuration is resolved
/// (`config::Globals`) and passed to the command, which makes its [`Prompter`] from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptMode {
    /// stdin and stderr are terminals: questions are asked ([`TerminalPrompter`]).
    Terminal,
    /// No terminal (or a dry run): every question is an error naming its flag ([`NoTerminal`]).
    NoTerminal,
}

impl PromptMode {
    /// [`PromptMode::Terminal`] when stdin and stderr are terminals.
    pub fn detect() -> PromptMode {
        if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            PromptMode::Terminal
        } else {
            PromptMode::NoTerminal
        }
    }

    /// Whether questions can be asked at all.
    pub fn interactive(self) -> bool {
        self == PromptMode::Terminal
    }

    /// The prompter of this mode.
    pub fn prompter(self) -> Box<dyn Prompter> {
        match self {
            PromptMode::Terminal => Box::new(TerminalPrompter),
            PromptMode::NoTerminal => Box::new(NoTerminal),
        }
    }
}

/// The real terminal, through dialoguer; prompts go to stderr.
pub(crate) struct TerminalPrompter;

/// dialoguer's simple theme, without the colon it puts after every question ("…revoke it?:").
struct Plain;

/// A question keeps its own punctuation; a bare label ("New token (input hidden)") gets a colon.
fn punctuated(prompt: &str) -> std::borrow::Cow<'_, str> {
    if prompt.ends_with(['?', ':', '.']) {
        prompt.into()
    } else {
        format!("{prompt}:").into()
    }
}

impl dialoguer::theme::Theme for Plain {
    fn format_prompt(&self, f: &mut dyn std::fmt::Write, prompt: &str) -> std::fmt::Result {
        write!(f, "{}", punctuated(prompt))
    }

    fn format_input_prompt(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
        _default: Option<&str>,
    ) -> std::fmt::Result {
        write!(f, "{} ", punctuated(prompt))
    }

    fn format_input_prompt_selection(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
        sel: &str,
    ) -> std::fmt::Result {
        write!(f, "{} {sel}", punctuated(prompt))
    }
}

impl Prompter for TerminalPrompter {
    /// An empty entry is answered with a line saying so (dialoguer would silently ask again), and the
    /// confirmation is asked here so a mismatch says what happened too.
    fn secret(&mut self, question: &str, confirm: bool, _flag: &str) -> Result<Secret> {
        loop {
            let value = zeroize::Zeroizing::new(
                dialoguer::Password::with_theme(&Plain)
                    .with_prompt(question)
                    .allow_empty_password(true)
                    .interact()?,
            );
            if value.trim().is_empty() {
                eprintln!("  Nothing was entered: paste the token and press Enter (Ctrl-C stops).");
                continue;
            }
            if confirm {
                let again = zeroize::Zeroizing::new(
                    dialoguer::Password::with_theme(&Plain)
                        .with_prompt("Again, to confirm")
                        .allow_empty_password(true)
                        .interact()?,
                );
                if again.trim() != value.trim() {
                    eprintln!("  The two entries differ; try again.");
                    continue;
                }
            }
            return Ok(Secret::new(value.trim().to_string(), "prompt"));
        }
    }

    /// Reads a whole line, so the Enter that ends `y` is consumed here and never answers the next
    /// question (dialoguer's Confirm reacts to the first keypress and leaves the Enter behind).
    fn confirm(&mut self, question: &str, default: bool, _flag: &str) -> Result<bool> {
        let hint = if default { "[Y/n]" } else { "[y/N]" };
        let stdin = std::io::stdin();
        loop {
            eprint!("{} {hint} ", punctuated(question));
            let mut line = String::new();
            if stdin.lock().read_line(&mut line)? == 0 {
                bail!("no answer to \"{question}\": standard input ended");
            }
            match parse_yes_no(&line, default) {
                Some(answer) => return Ok(answer),
                None => eprintln!(
                    "  Answer y or n, then Enter (Enter alone: {}).",
                    if default { "yes" } else { "no" }
                ),
            }
        }
    }

    fn select(
        &mut self,
        question: &str,
        choices: &[&str],
        default: usize,
        _flag: &str,
    ) -> Result<usize> {
        Ok(dialoguer::Select::with_theme(&Plain)
            .with_prompt(question)
            .items(choices)
            .default(default)
            .interact()?)
    }
}

/// A typed answer: y/yes, n/no (any case), or nothing for the default; None for anything else.
fn parse_yes_no(line: &str, default: bool) -> Option<bool> {
    match line.trim().to_ascii_lowercase().as_str() {
        "" => Some(default),
        "y" | "yes" => Some(true),
        "n" | "no" => Some(false),
        _ => None,
    }
}

/// No terminal: every question is an error that names the flag to use instead. Nothing is changed.
pub(crate) struct NoTerminal;

impl Prompter for NoTerminal {
    fn secret(&mut self, question: &str, _confirm: bool, flag: &str) -> Result<Secret> {
        bail!("cannot ask \"{question}\": no terminal; use {flag}")
    }
    fn confirm(&mut self, question: &str, _default: bool, flag: &str) -> Result<bool> {
        bail!("cannot ask \"{question}\": no terminal; use {flag}")
    }
    fn select(
        &mut self,
        question: &str,
        _choices: &[&str],
        _default: usize,
        flag: &str,
    ) -> Result<usize> {
        bail!("cannot ask \"{question}\": no terminal; use {flag}")
    }
}

/// Answers scripted in advance, for tests that drive a flow in-process.
#[derive(Default)]
pub struct ScriptedPrompter {
    pub(crate) answers: VecDeque<Answer>,
    /// The questions asked, in order, for assertions.
    pub asked: Vec<String>,
}

/// One scripted answer.
pub enum Answer {
    /// The answer to a hidden-input question ([`Prompter::secret`]); comes back with origin `prompt`.
    Secret(String),
    /// Yes to a [`Prompter::confirm`] question.
    Yes,
    /// No to a [`Prompter::confirm`] question.
    No,
    /// The index picked in a [`Prompter::select`] question (out of range is an error).
    Choice(usize),
}

impl ScriptedPrompter {
    /// Answers the questions in the order given; a question left over, or one answered with the wrong
    /// kind of answer, is an error (so a flow that asks something new fails its test).
    pub fn new(answers: impl IntoIterator<Item = Answer>) -> Self {
        ScriptedPrompter {
            answers: answers.into_iter().collect(),
            asked: Vec::new(),
        }
    }

    fn next(&mut self, question: &str) -> Result<Answer> {
        self.asked.push(question.to_string());
        match self.answers.pop_front() {
            Some(answer) => Ok(answer),
            None => bail!("unscripted question: {question}"),
        }
    }
}

impl Prompter for ScriptedPrompter {
    fn secret(&mut self, question: &str, _confirm: bool, _flag: &str) -> Result<Secret> {
        match self.next(question)? {
            Answer::Secret(value) => Ok(Secret::new(value, "prompt")),
            _ => bail!("scripted answer to \"{question}\" is not a secret"),
        }
    }
    fn confirm(&mut self, question: &str, _default: bool, _flag: &str) -> Result<bool> {
        match self.next(question)? {
            Answer::Yes => Ok(true),
            Answer::No => Ok(false),
            _ => bail!("scripted answer to \"{question}\" is not yes/no"),
        }
    }
    fn select(
        &mut self,
        question: &str,
        choices: &[&str],
        _default: usize,
        _flag: &str,
    ) -> Result<usize> {
        match self.next(question)? {
            Answer::Choice(i) if i < choices.len() => Ok(i),
            _ => bail!(
                "scripted answer to \"{question}\" is not one of {} choices",
                choices.len()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_yes_no;

    #[test]
    fn a_line_answers_one_question() {
        assert_eq!(parse_yes_no("y\n", false), Some(true));
        assert_eq!(parse_yes_no(" YES \n", false), Some(true));
        assert_eq!(parse_yes_no("n\n", true), Some(false));
        assert_eq!(parse_yes_no("\n", true), Some(true));
        assert_eq!(parse_yes_no("\n", false), Some(false));
        assert_eq!(parse_yes_no("yn\n", true), None);
    }
}
