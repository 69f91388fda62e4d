//! The terminal: colour, logging, the error handler, and every write to
//! stdout and stderr.
//!
//! Colour is decided once, here, for both streams; every other part of the
//! command line asks [`Colors`]. Writes go through [`stdout`] and [`stderr`]
//! so that output errors are handled one way: a closed pipe (`| head`) is
//! the reader's choice and ends quietly, any other error is a [`Failure`].
//!
//! Being the one write path, it is also the last line of defence: every
//! text written here, logs included, passes through
//! [`crate::cloud::redact::scrub`], so a secret, a token or a signature
//! that reached some text by a path nobody foresaw is still masked.

// The one place that opens stdout and stderr (see clippy.toml).
#![allow(clippy::disallowed_methods)]

use std::io::{IsTerminal as _, Write};

use clap::ValueEnum;

use crate::cloud::redact;
use crate::exit::Failure;
use crate::text::{inert, inert_render};

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Whether each stream gets colour, decided once per run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colors {
    pub stdout: bool,
    pub stderr: bool,
}

impl Colors {
    /// `--color always|never` wins; `auto` means the stream is a terminal
    /// and `NO_COLOR` is unset (set to any value, even empty, it says no).
    pub fn decide(choice: ColorChoice) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some();
        Self {
            stdout: color_enabled(choice, std::io::stdout().is_terminal(), no_color),
            stderr: color_enabled(choice, std::io::stderr().is_terminal(), no_color),
        }
    }
}

fn color_enabled(choice: ColorChoice, is_terminal: bool, no_color: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && !no_color,
    }
}

/// Columns when nothing says otherwise: what a CI log shows comfortably.
pub const DEFAULT_WIDTH: usize = 80;
/// Fewer columns than this cannot hold a labelled manifest line.
const MIN_WIDTH: usize = 40;

/// The columns the human report on stdout fits in: `COLUMNS` when set (so
/// a script or a test can ask for a width), else the terminal's width, else
/// [`DEFAULT_WIDTH`] (a pipe, a file, a CI log).
pub fn stdout_width() -> usize {
    width(
        std::env::var("COLUMNS").ok().as_deref(),
        std::io::stdout().is_terminal(),
        || terminal_size::terminal_size_of(std::io::stdout()),
    )
}

/// The same for stderr, where errors are drawn.
fn stderr_width() -> usize {
    width(
        std::env::var("COLUMNS").ok().as_deref(),
        std::io::stderr().is_terminal(),
        || terminal_size::terminal_size_of(std::io::stderr()),
    )
}

fn width(
    columns: Option<&str>,
    is_terminal: bool,
    size: impl FnOnce() -> Option<(terminal_size::Width, terminal_size::Height)>,
) -> usize {
    let from_env = columns.and_then(|c| c.trim().parse::<usize>().ok());
    let from_terminal = || {
        is_terminal
            .then(size)
            .flatten()
            .map(|(terminal_size::Width(w), _)| usize::from(w))
    };
    from_env
        .filter(|&w| w > 0)
        .or_else(from_terminal)
        .unwrap_or(DEFAULT_WIDTH)
        .max(MIN_WIDTH)
}

/// Whether stderr is a terminal, where a spinner can be drawn.
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// Sets up logging and miette's theme on stderr; returns the colours.
pub fn init(choice: ColorChoice, verbose: u8) -> Colors {
    // Before anything can be printed: the environment's secrets and tokens
    // are masked even when no credentials are ever resolved (`validate`).
    redact::remember_environment(&|name| std::env::var(name).ok());
    let colors = Colors::decide(choice);
    let color = colors.stderr;
    let width = stderr_width();
    let _ = miette::set_hook(Box::new(move |_| {
        let theme = if color {
            miette::GraphicalTheme::unicode()
        } else {
            miette::GraphicalTheme::unicode_nocolor()
        };
        Box::new(crate::report::unbroken_ids(
            miette::GraphicalReportHandler::new_themed(theme).with_width(width),
        ))
    }));
    init_logging(verbose);
    colors
}

/// Logs carry request ids and server messages: text from outside, which
/// is escaped in full, so log lines are never coloured (an injected colour
/// code could not be told from ours).
fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "shipcheck=info,warn",
        _ => "shipcheck=debug,info",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| ScrubbedLog(Vec::new()))
        .with_ansi(false)
        .with_target(false)
        .try_init();
}

/// One log event, collected and then written to stderr scrubbed and made
/// inert (a log line may quote a server's text).
struct ScrubbedLog(Vec<u8>);

impl Write for ScrubbedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for ScrubbedLog {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let _ = std::io::stderr()
            .lock()
            .write_all(redact::scrub(&inert(&text)).as_bytes());
    }
}

/// Writes `text` to stdout and flushes it.
pub fn stdout(text: &str) -> Result<(), Failure> {
    stdout_with(|out| out.write_all(text.as_bytes()))
}

/// Writes to stdout what `write` writes, as it writes it (a fleet's JSON
/// report is not held whole), and flushes it.
pub fn stdout_with(
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Failure> {
    write_all(std::io::stdout().lock(), "stdout", write)
}

/// Writes `text` to stderr.
pub fn stderr(text: &str) -> Result<(), Failure> {
    write_all(std::io::stderr().lock(), "stderr", |out| {
        out.write_all(text.as_bytes())
    })
}

/// Prints an error that ended the run. Nothing is left to tell if stderr
/// itself fails, so that is ignored. Its text may quote a server: made
/// inert, and coloured (by the hook) only when it carries nothing unsafe.
pub fn print_error(report: &miette::Report) {
    let text = inert_render(true, |color| {
        if color {
            format!("{report:?}\n")
        } else {
            let plain = miette::GraphicalReportHandler::new_themed(
                miette::GraphicalTheme::unicode_nocolor(),
            )
            .with_width(100);
            let mut out = String::new();
            // Writing to a String cannot fail.
            let _ = plain.render_report(&mut out, report.as_ref());
            out.push('\n');
            out
        }
    });
    let _ = stderr(&text);
}

/// Writes a `--report` file, scrubbed like every other sink: fresh, or
/// appended to (`append`).
pub fn write_file(path: &std::path::Path, text: &str, append: bool) -> std::io::Result<()> {
    write_file_with(path, append, |out| out.write_all(text.as_bytes()))
}

/// Writes a `--report` file as `write` writes it, scrubbed on the way.
pub fn write_file_with(
    path: &std::path::Path,
    append: bool,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)?;
    scrubbed(file, write)
}

/// Passes what `write` writes to `out` through [`redact::Scrubbing`], and
/// flushes it.
fn scrubbed(
    out: impl Write,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut scrubbing = redact::Scrubbing::new(std::io::BufWriter::new(out));
    write(&mut scrubbing)?;
    scrubbing.finish()?.flush()
}

fn write_all(
    stream: impl Write,
    name: &str,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Failure> {
    match scrubbed(stream, write) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::unverified(
            miette::miette!("cannot write to {name}: {err}"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_rules() {
        let size = || Some((terminal_size::Width(132), terminal_size::Height(40)));
        assert_eq!(width(Some("60"), true, size), 60, "COLUMNS wins");
        assert_eq!(width(None, true, size), 132, "then the terminal");
        assert_eq!(width(None, false, size), DEFAULT_WIDTH, "80 off a terminal");
        assert_eq!(width(Some("wide"), false, size), DEFAULT_WIDTH);
        assert_eq!(width(Some("0"), true, size), 132);
        assert_eq!(width(Some("12"), false, size), MIN_WIDTH);
        assert_eq!(width(None, true, || None), DEFAULT_WIDTH);
    }

    #[test]
    fn colour_rules() {
        assert!(color_enabled(ColorChoice::Always, false, true));
        assert!(!color_enabled(ColorChoice::Never, true, false));
        assert!(color_enabled(ColorChoice::Auto, true, false));
        assert!(!color_enabled(ColorChoice::Auto, true, true));
        assert!(!color_enabled(ColorChoice::Auto, false, false));
    }

    /// A writer that fails the way a closed pipe or a full disk does.
    struct Failing(std::io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(self.0.into())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_quiet_and_other_write_errors_fail() {
        let x = |out: &mut dyn Write| out.write_all(b"x");
        assert!(write_all(Failing(std::io::ErrorKind::BrokenPipe), "stdout", x).is_ok());
        let failure = write_all(Failing(std::io::ErrorKind::StorageFull), "stdout", x).unwrap_err();
        assert_eq!(failure.exit, crate::exit::Exit::Unverified);
        assert!(
            failure
                .report
                .to_string()
                .starts_with("cannot write to stdout")
        );
    }
}
