//! `shipcheck completions SHELL` and `shipcheck man [COMMAND]`: the command
//! line described for shells and for `man`, generated from the same clap
//! definition that parses it, so neither can fall behind a new flag.

use clap::{Args, Command};
use clap_complete::Shell;

use super::terminal;
use crate::exit::{Exit, Failure};

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A subcommand's own page (shipcheck-check(1)); the overview by default.
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// Prints the completion script for `args.shell` on stdout.
pub fn completions(args: &CompletionsArgs, mut cli: Command) -> Result<Exit, Failure> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cli, "shipcheck", &mut script);
    terminal::stdout(&String::from_utf8_lossy(&script))?;
    Ok(Exit::Ok)
}

/// The exit codes, for every page: they are the contract a script relies on.
const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
every expectation holds (warnings and waived findings allowed)
.TP
\fB1\fR
drift: at least one expectation does not hold
.TP
\fB2\fR
the manifest or the command line is invalid
.TP
\fB3\fR
could not verify: API, credentials, network, or incomplete data
.TP
\fB4\fR
the \-\-wait deadline passed while deliveries were still pending
"#;

/// Prints a roff manual page on stdout: `shipcheck(1)`, or
/// `shipcheck-COMMAND(1)` for a subcommand.
pub fn man(args: &ManArgs, cli: Command) -> Result<Exit, Failure> {
    let page = match &args.command {
        None => cli,
        Some(name) => {
            let Some(sub) = cli.find_subcommand(name).cloned() else {
                let known: Vec<&str> = cli.get_subcommands().map(Command::get_name).collect();
                return Err(Failure::invalid(miette::miette!(
                    help = format!("one of {}", known.join(", ")),
                    "no subcommand `{name}`"
                )));
            };
            // Titled shipcheck-check(1), as git names its pages; the
            // synopsis reads `shipcheck check …`, as it is typed.
            let name = sub.get_name().to_owned();
            sub.bin_name(format!("shipcheck {name}"))
                .display_name(format!("shipcheck-{name}"))
                .version(super::VERSION)
        }
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page)
        .source(format!("shipcheck {}", super::VERSION))
        .manual("shipcheck manual")
        .date(env!("SHIPCHECK_BUILD_DATE"))
        .render(&mut roff)
        .map_err(|err| Failure::unverified(miette::miette!("cannot render the page: {err}")))?;
    let mut text = String::from_utf8_lossy(&roff).into_owned();
    text.push_str(EXIT_STATUS);
    terminal::stdout(&text)?;
    Ok(Exit::Ok)
}
