//! `completions` and `man`: a shell's completion script and the manual
//! page, generated from the clap grammar (`cli.rs`) by clap_complete and
//! clap_mangen, so that neither can drift from the flags the binary takes.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::failure::Failure;

/// Writes the completion script of `shell`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> Result<(), Failure> {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "benefit-ledger", out);
    Ok(())
}

/// Writes the manual page in roff.
pub fn man(out: &mut dyn Write) -> Result<(), Failure> {
    // A closed standard output (a pipe into `head`) ends the page quietly,
    // as every other output does.
    let _ = clap_mangen::Man::new(Cli::command()).render(out);
    Ok(())
}
