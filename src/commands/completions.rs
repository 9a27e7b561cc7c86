//! `layercache completions SHELL`: a completion script, generated from the clap definitions by
//! clap_complete, so it always offers the flags this binary has.

use super::write_stdout;
use crate::cli::Cli;
use crate::error::Error;
use clap::CommandFactory;

pub fn completions(shell: clap_complete::Shell) -> Result<(), Error> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "layercache", &mut out);
    write_stdout(&String::from_utf8_lossy(&out))
}
