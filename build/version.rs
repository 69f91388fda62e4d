// What `shipcheck --version` says about the build: the git commit and the
// date. Shared by build.rs (which runs it) and a test (which runs it on a
// tree with and without `.git`), so it is plain std and takes no globals.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The commit a build comes from, and the files whose change means a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCommit {
    /// The full hash, or `None` when the tree has no `.git` (a source
    /// tarball) or `git` cannot say.
    pub hash: Option<String>,
    /// `.git/HEAD`, the ref it points at and `packed-refs`: a commit or a
    /// checkout changes one of them.
    pub watch: Vec<PathBuf>,
}

/// Asks `git` about the tree at `root`, only when `root/.git` exists (a
/// directory, or a file in a worktree), so a parent repository never lends
/// its commit to an unpacked tarball.
pub fn git_commit(root: &Path) -> GitCommit {
    let unknown = GitCommit {
        hash: None,
        watch: Vec::new(),
    };
    if !root.join(".git").exists() {
        return unknown;
    }
    let git = |args: &[&str]| -> Option<String> {
        let output = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()?;
        let text = String::from_utf8(output.stdout).ok()?;
        let text = text.trim();
        (output.status.success() && !text.is_empty()).then(|| text.to_owned())
    };
    let Some(hash) = git(&["rev-parse", "--verify", "HEAD^{commit}"]) else {
        return unknown;
    };
    let mut watch = Vec::new();
    let mut paths = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
        paths.push(reference);
    }
    for path in paths {
        if let Some(found) = git(&["rev-parse", "--git-path", &path]) {
            watch.push(root.join(found));
        }
    }
    GitCommit {
        hash: Some(hash),
        watch,
    }
}

/// The build date, `YYYY-MM-DD` in UTC: `SOURCE_DATE_EPOCH` when set (a
/// reproducible build), else now.
pub fn build_date(source_date_epoch: Option<&str>) -> String {
    let seconds = source_date_epoch
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    let (year, month, day) = civil_from_days(seconds / 86_400);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`), so the build script needs no date crate.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}
