//! `unleak man [--dir DIR]`: the manual page on stdout, or one page per command written into DIR.

use crate::cli::Cli;
use crate::exit_codes::ExitCode;
use anyhow::Result;

pub(crate) fn run(dir: Option<std::path::PathBuf>, quiet: bool) -> Result<ExitCode> {
    let command = <Cli as clap::CommandFactory>::command();
    match dir {
        Some(dir) => man_pages(command, &dir, quiet)?,
        None => {
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(command).render(&mut out)?;
            std::io::Write::flush(&mut out)?;
        }
    }
    Ok(ExitCode::Clean)
}

/// `unleak man --dir DIR`: one page per command, named as the pages refer to each other (unleak.1 lists
/// unleak-scan(1), unleak-hook.1 lists unleak-hook-install(1), ...), so no reference dangles. Each page
/// is rendered in full, then written atomically.
fn man_pages(command: clap::Command, dir: &std::path::Path, quiet: bool) -> Result<()> {
    use anyhow::Context;
    fn pages(command: clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            pages(sub.clone(), out)?;
        }
        let man = clap_mangen::Man::new(command);
        let mut bytes = Vec::new();
        man.render(&mut bytes)?;
        out.push((man.get_filename(), bytes));
        Ok(())
    }
    // As clap_mangen's generate_to: no `help` pseudo-command, and built, so a nested command's name
    // is its whole path (unleak-hook-install).
    let mut command = command.disable_help_subcommand(true);
    command.build();
    let mut rendered = Vec::new();
    pages(command, &mut rendered)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    rendered.sort();
    for (name, bytes) in &rendered {
        crate::util::fs::write_atomic(&dir.join(name), bytes, &super::REPORT_FILE)?;
    }
    if !quiet {
        let mut out = std::io::stdout().lock();
        std::io::Write::write_all(
            &mut out,
            format!(
                "Wrote {} man pages to {} (unleak.1 and one per subcommand). In a man1 folder on \
                 MANPATH (e.g. ~/.local/share/man/man1) `man unleak-scan` finds them; `man -l FILE` \
                 reads one anywhere.\n",
                rendered.len(),
                crate::sanitize::for_terminal(&dir.display().to_string())
            )
            .as_bytes(),
        )?;
    }
    Ok(())
}
