//! `check --probe --dry-run` output, and writing `--fix-script` and
//! `--fix-plan`.

use super::check::CheckArgs;
use super::terminal;
use crate::exit::{Exit, Failure};
use crate::expect::Expectations;
use crate::fix::FixPlan;
use crate::report::ReportFormat;
use crate::report::model::FixNote;

/// Prints what `--probe` would run, call and need, and makes no call.
pub fn dry_run(mut expectations: Expectations, args: &CheckArgs) -> Result<Exit, Failure> {
    let region = args
        .cloud
        .region
        .clone()
        .or_else(|| crate::cloud::Env::from_process().region());
    // Entries that name no region say so rather than stop the dry run.
    let _ = expectations.apply_region_fallback(region.as_deref().or(Some("<region>")));
    let description = crate::probe::describe(&expectations);
    if args.format == ReportFormat::Json {
        let mut json = serde_json::to_string_pretty(&description).expect("plain data");
        json.push('\n');
        terminal::stdout(&json)?;
        return Ok(Exit::Ok);
    }
    let mut out = String::from(
        "shipcheck check --probe would make these calls (dry run: no credentials, no calls).\n",
    );
    let runs = description
        .calls
        .iter()
        .filter(|c| c.action == "RunCommand")
        .count();
    out.push_str(&format!(
        "{}, each followed by DescribeInvocationResults until it finishes.\n",
        crate::text::count(runs, "RunCommand")
    ));
    for call in &description.calls {
        out.push_str(&format!("\n{}\n", call.action));
        for (name, value) in &call.parameters {
            if name == "CommandContent" {
                out.push_str("  CommandContent: (the script below)\n");
            } else {
                out.push_str(&format!("  {name}: {value}\n"));
            }
        }
        if let Some(script) = &call.script {
            out.push_str("  script:\n");
            for line in script.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    out.push_str(&format!(
        "\nRAM actions needed: {}\n",
        description.ram_actions.join(", ")
    ));
    terminal::stdout(&out)?;
    Ok(Exit::Ok)
}

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
