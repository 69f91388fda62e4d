//! build.rs's logic (`build/version.rs`) on trees with and without `.git`:
//! a source tarball builds and says `commit unknown`; a checkout names its
//! commit and the files to watch for the next one.

#[path = "../../build/version.rs"]
mod version;

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn a_tree_without_git_has_no_commit() {
    let tarball = tempfile::tempdir().unwrap();
    std::fs::write(tarball.path().join("Cargo.toml"), "").unwrap();
    let commit = version::git_commit(tarball.path());
    assert_eq!(commit.hash, None);
    assert!(commit.watch.is_empty());
}

#[test]
fn a_subdirectory_of_another_repository_does_not_borrow_its_commit() {
    let outer = tempfile::tempdir().unwrap();
    git(outer.path(), &["init", "-q"]);
    git(
        outer.path(),
        &["commit", "-q", "--allow-empty", "-m", "outer"],
    );
    let unpacked = outer.path().join("vendor/shipcheck");
    std::fs::create_dir_all(&unpacked).unwrap();
    assert_eq!(version::git_commit(&unpacked).hash, None);
}

#[test]
fn a_checkout_names_its_commit_and_what_to_watch() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    // An empty repository has no commit yet.
    assert_eq!(version::git_commit(repo.path()).hash, None);
    git(
        repo.path(),
        &["commit", "-q", "--allow-empty", "-m", "first"],
    );
    let head = git(repo.path(), &["rev-parse", "HEAD"]);
    let commit = version::git_commit(repo.path());
    assert_eq!(commit.hash.as_deref(), Some(head.as_str()));
    assert!(commit.watch.iter().any(|p| p.ends_with(".git/HEAD")));
    assert!(commit.watch.iter().any(|p| p.ends_with("refs/heads/main")));
}

#[test]
fn the_build_date_follows_source_date_epoch() {
    assert_eq!(version::build_date(Some("0")), "1970-01-01");
    assert_eq!(version::build_date(Some("951782400")), "2000-02-29");
    assert_eq!(version::build_date(Some("1798675200")), "2026-12-31");
    let today = version::build_date(None);
    assert!(today.len() == 10 && today.as_bytes()[4] == b'-', "{today}");
}
