//! Terminal concerns: colour choice, logging to stderr, printing errors.

use std::io::IsTerminal as _;

use crate::cli::ColorChoice;

/// Decides colour once: `--color always|never` wins; `auto` means a terminal
/// on stderr and no `NO_COLOR` (set to any value, even empty).
pub fn color_enabled(choice: ColorChoice, is_terminal: bool, no_color: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && !no_color,
    }
}

/// Sets up logging and miette's theme; returns whether colour is on.
pub fn init(choice: ColorChoice, verbose: u8) -> bool {
    let color = color_enabled(
        choice,
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").is_some(),
    );
    let _ = miette::set_hook(Box::new(move |_| {
        let theme = if color {
            miette::GraphicalTheme::unicode()
        } else {
            miette::GraphicalTheme::unicode_nocolor()
        };
        Box::new(miette::GraphicalReportHandler::new_themed(theme).with_width(100))
    }));
    init_logging(verbose, color);
    color
}

fn init_logging(verbose: u8, color: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "shipcheck=info,warn",
        _ => "shipcheck=debug,info",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .try_init();
}

/// Prints an error that ended the run to stderr.
pub fn print_error(report: &miette::Report, _color: bool) {
    eprintln!("{report:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_rules() {
        assert!(color_enabled(ColorChoice::Always, false, true));
        assert!(!color_enabled(ColorChoice::Never, true, false));
        assert!(color_enabled(ColorChoice::Auto, true, false));
        assert!(!color_enabled(ColorChoice::Auto, true, true));
        assert!(!color_enabled(ColorChoice::Auto, false, false));
    }
}
