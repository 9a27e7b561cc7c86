//! `layercache man [COMMAND]`: the man page (roff), generated from the clap definitions by
//! clap_mangen: layercache(1), or layercache-COMMAND(1) for one command.

use super::write_stdout;
use crate::cli::Cli;
use crate::error::Error;
use clap::CommandFactory;

pub fn man(command: Option<&str>) -> Result<(), Error> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    // Built, so that the global flags (-f, -v, -q) show on each command's page too.
    cli.build();
    let page = match command {
        None => cli,
        Some(name) => cli
            .find_subcommand(name)
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
                Error::input(format!("`{name}` is not a layercache command"))
                    .hint(format!("name one of: {}", names.join(", ")))
            })?
            // The page's header shows the version, which clap keeps on the top command only.
            .version(env!("CARGO_PKG_VERSION")),
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| Error::environment(format!("cannot write the man page: {e}")))?;
    write_stdout(&String::from_utf8_lossy(&out))
}
