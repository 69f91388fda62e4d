//! Writing `--fix-script` and `--fix-plan`.

use super::check::CheckArgs;
use super::terminal;
use crate::exit::Failure;
use crate::fix::FixPlan;
use crate::report::model::FixNote;

/// Writes `--fix-script` and `--fix-plan`; returns what the report says
/// about them.
pub fn write_fix(fix: &FixPlan, args: &CheckArgs) -> Result<FixNote, Failure> {
    let mut paths = Vec::new();
    for (path, text) in [
        (&args.fix_script, crate::fix::to_script(fix)),
        (&args.fix_plan, crate::fix::to_json(fix)),
    ] {
        let Some(path) = path else { continue };
        terminal::write_file(path, &text, false).map_err(|err| {
            Failure::invalid(miette::miette!(
                help = "check that the directory exists and is writable",
                "cannot write the fix to {}: {err}",
                path.display()
            ))
        })?;
        paths.push(path.display().to_string());
    }
    Ok(FixNote {
        calls: fix.calls.len(),
        paths,
    })
}
