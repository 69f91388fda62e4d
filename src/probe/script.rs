//! The probe script and its output format, version 1.
//!
//! The script is what `check --probe` asks Cloud Assistant to run (and what
//! `--dry-run` prints): for each declared path, in order, whether it exists,
//! and for a regular file its mode, owner, group, size and SHA-256. It reads
//! file content only to hash it and never prints it. Paths are not echoed
//! back: each answer line names its path by index, so no path needs
//! escaping on the way out.
//!
//! The output is parsed strictly: the version line, exactly one line per
//! path in order, and the closing count. Anything else (a truncated output,
//! a shell that printed something of its own) is an error, and the pairs it
//! covers stay unverified.

use std::fmt::Write as _;

use serde::Serialize;

/// The first line of the output, and (after `# `) the script's second line,
/// by which the simulator recognises it.
pub const VERSION_LINE: &str = "shipcheck-probe v1";

/// What the probe saw at one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum DiskState {
    /// Nothing at the path.
    Absent,
    /// Something that is not a regular file (a directory, a socket), or a
    /// file the probe could not read.
    NotAFile,
    /// A regular file (symlinks followed).
    File(FileFacts),
}

/// A regular file's attributes, as `stat` and `sha256sum` report them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileFacts {
    /// The permission bits, as `stat %a` prints them (octal).
    pub mode: u32,
    pub owner: String,
    pub group: String,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
}

/// The script that probes `paths` (absolute, as declared).
pub fn render(paths: &[String]) -> String {
    let quoted: Vec<String> = paths.iter().map(|p| shell_quote(p)).collect();
    let mut script = String::new();
    script.push_str("#!/bin/sh\n");
    let _ = writeln!(script, "# {VERSION_LINE}");
    script.push_str(
        "# Read-only: prints, for each path, whether it exists and its mode, owner,\n\
         # group, size and SHA-256. Never prints file content.\n",
    );
    let _ = writeln!(script, "echo '{VERSION_LINE}'");
    script.push_str("i=0\n");
    let _ = writeln!(script, "for p in {}; do", quoted.join(" "));
    script.push_str(concat!(
        "  if [ ! -e \"$p\" ] && [ ! -L \"$p\" ]; then\n",
        "    printf '%s\\tabsent\\n' \"$i\"\n",
        "  elif [ -f \"$p\" ] && s=$(stat -L --printf '%a\\t%U\\t%G\\t%s' -- \"$p\") && h=$(sha256sum < \"$p\"); then\n",
        "    printf '%s\\tfile\\t%s\\t%s\\n' \"$i\" \"$s\" \"${h%% *}\"\n",
        "  else\n",
        "    printf '%s\\tother\\n' \"$i\"\n",
        "  fi\n",
        "  i=$((i+1))\n",
        "done\n",
        "echo \"end $i\"\n",
    ));
    script
}

/// The paths a probe script asks about, read back from its `for` line; `None`
/// when `script` is not a version-1 probe. The simulator answers with this.
pub fn paths_of(script: &str) -> Option<Vec<String>> {
    let mut lines = script.lines();
    lines.next().filter(|l| *l == "#!/bin/sh")?;
    lines.next().filter(|l| *l == format!("# {VERSION_LINE}"))?;
    let list = lines
        .find_map(|l| l.strip_prefix("for p in "))?
        .strip_suffix("; do")?;
    shell_words(list)
}

/// One answer line, as the script prints it.
pub fn render_line(index: usize, state: &DiskState) -> String {
    match state {
        DiskState::Absent => format!("{index}\tabsent\n"),
        DiskState::NotAFile => format!("{index}\tother\n"),
        DiskState::File(f) => format!(
            "{index}\tfile\t{:o}\t{}\t{}\t{}\t{}\n",
            f.mode, f.owner, f.group, f.size, f.sha256
        ),
    }
}

/// The whole output for `states`, as the script prints it.
pub fn render_output(states: &[DiskState]) -> String {
    let mut out = format!("{VERSION_LINE}\n");
    for (i, state) in states.iter().enumerate() {
        out.push_str(&render_line(i, state));
    }
    let _ = writeln!(out, "end {}", states.len());
    out
}

/// Reads the output of a probe of `count` paths; `Err` says what is wrong.
pub fn parse(output: &[u8], count: usize) -> Result<Vec<DiskState>, String> {
    let text = std::str::from_utf8(output).map_err(|_| "the output is not UTF-8".to_owned())?;
    let mut lines = text.lines();
    match lines.next() {
        Some(VERSION_LINE) => {}
        Some(other) => {
            return Err(format!(
                "the output starts with `{other}`, not `{VERSION_LINE}`"
            ));
        }
        None => return Err("the output is empty".into()),
    }
    let mut states = Vec::with_capacity(count);
    for index in 0..count {
        let line = lines
            .next()
            .ok_or_else(|| format!("the output ends before path {}", index + 1))?;
        states.push(parse_line(line, index).map_err(|e| format!("line {}: {e}", index + 2))?);
    }
    let end = format!("end {count}");
    match lines.next() {
        Some(line) if line == end => {}
        Some(line) => return Err(format!("expected `{end}`, found `{line}`")),
        None => return Err(format!("the output ends without `{end}`")),
    }
    if let Some(extra) = lines.find(|l| !l.is_empty()) {
        return Err(format!("unexpected output after the end: `{extra}`"));
    }
    Ok(states)
}

fn parse_line(line: &str, index: usize) -> Result<DiskState, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    if fields.first() != Some(&index.to_string().as_str()) {
        return Err(format!("expected path {index}, found `{line}`"));
    }
    match fields[1..] {
        ["absent"] => Ok(DiskState::Absent),
        ["other"] => Ok(DiskState::NotAFile),
        ["file", mode, owner, group, size, sha256] => {
            let mode = u32::from_str_radix(mode, 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .ok_or_else(|| format!("`{mode}` is not a file mode"))?;
            let size = size
                .parse()
                .map_err(|_| format!("`{size}` is not a size"))?;
            let sha256_ok = sha256.len() == 64
                && sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !sha256_ok || owner.is_empty() || group.is_empty() {
                return Err(format!("malformed file line `{line}`"));
            }
            Ok(DiskState::File(FileFacts {
                mode,
                owner: owner.to_owned(),
                group: group.to_owned(),
                size,
                sha256: sha256.to_owned(),
            }))
        }
        _ => Err(format!("malformed line `{line}`")),
    }
}

/// `value` as one POSIX shell word: single-quoted, `'` as `'\''`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// Splits words written by [`shell_quote`], separated by single spaces.
fn shell_words(list: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    let mut chars = list.chars();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '\'') => quoted = false,
            (true, c) => word.get_or_insert_default().push(c),
            (false, '\'') => {
                quoted = true;
                word.get_or_insert_default();
            }
            (false, '\\') if chars.next() == Some('\'') => word.get_or_insert_default().push('\''),
            (false, ' ') => words.push(word.take()?),
            _ => return None,
        }
    }
    if quoted {
        return None;
    }
    words.push(word?);
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> DiskState {
        DiskState::File(FileFacts {
            mode: 0o640,
            owner: "app".into(),
            group: "www-data".into(),
            size: 12,
            sha256: "a".repeat(64),
        })
    }

    #[test]
    fn script_names_its_paths_and_reads_them_back() {
        let paths = vec![
            "/etc/app.conf".to_owned(),
            "/opt/it's here/x y".to_owned(),
            "/a/'q'".to_owned(),
        ];
        let script = render(&paths);
        assert_eq!(paths_of(&script), Some(paths));
        assert!(!script.contains("cat "), "the probe never prints content");
        assert_eq!(paths_of("#!/bin/sh\necho hi\n"), None);
    }

    #[test]
    fn output_round_trips() {
        let states = vec![facts(), DiskState::Absent, DiskState::NotAFile];
        let out = render_output(&states);
        assert_eq!(parse(out.as_bytes(), 3).unwrap(), states);
    }

    #[test]
    fn parse_is_strict() {
        let good = render_output(&[facts(), DiskState::Absent]);
        assert!(parse(good.as_bytes(), 3).is_err(), "a missing line");
        assert!(parse(good.as_bytes(), 1).is_err(), "an extra line");
        let cut = &good[..good.len() - 6];
        assert!(parse(cut.as_bytes(), 2).is_err(), "a truncated output");
        assert!(parse(b"", 0).is_err());
        let swapped = good.replace("0\tfile", "1\tfile");
        assert!(parse(swapped.as_bytes(), 2).is_err(), "out of order");
        let bad_mode = good.replace("\t640\t", "\t9x\t");
        assert!(parse(bad_mode.as_bytes(), 2).is_err());
        let v2 = good.replace("v1", "v2");
        assert!(parse(v2.as_bytes(), 2).is_err(), "another version");
    }
}
