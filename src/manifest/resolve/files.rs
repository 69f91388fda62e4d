//! `files:`: one [`FileExpectation`] per entry, with the defaults applied,
//! its content read (inline, from `content_file`, or as a `sha256`) and
//! SendFile's own limits checked, so a manifest cannot declare what
//! SendFile would refuse to deliver.

use std::path::Path;

use base64::Engine as _;

use super::defaults::ResolvedDefaults;
use super::sets::{InstanceSets, id_example};
use super::{Resolver, content_type};
use crate::expect::{Attr, ExpectedContent, FileExpectation, Span};
use crate::manifest::diagnostics::{Code, ManifestDiagnostic};
use crate::manifest::document::pointer_display;
use crate::manifest::model::FileEntry;
use crate::mode::DEFAULT_MODE;
use crate::observe::ContentType;
use crate::protocol::Provider;

/// SendFile's limit on `Content`, measured after Base64 encoding.
const MAX_CONTENT_BASE64_BYTES: usize = 32 * 1024;
/// The most raw bytes that stay within that limit once encoded.
const MAX_CONTENT_RAW_BYTES: usize = MAX_CONTENT_BASE64_BYTES / 4 * 3;
/// SendFile's limit on `Name` and `TargetDir`, in characters.
const MAX_NAME_CHARS: usize = 255;

impl Resolver<'_> {
    pub(super) fn file(
        &mut self,
        i: usize,
        entry: &FileEntry,
        provider: Provider,
        sets: &InstanceSets,
        defaults: &ResolvedDefaults,
    ) -> Option<FileExpectation> {
        let at = |key: &str| format!("/files/{i}/{key}");
        let entry_pointer = format!("/files/{i}");
        let mut ok = true;

        let name = self.string(&entry.name, &at("name"));
        if let Some(name) = &name {
            ok &= self.length("name", &name.value, &at("name"));
        }
        let target_dir = self.string(&entry.target_dir, &at("target_dir"));
        if let Some(dir) = &target_dir {
            ok &= self.length("target_dir", &dir.value, &at("target_dir"));
            if !is_absolute(&dir.value) {
                ok = false;
                self.push(
                    ManifestDiagnostic::new(
                        Code::RelativeTargetDir,
                        format!("target_dir `{}` is not an absolute path", dir.value),
                    )
                    .label(self.index.value(&at("target_dir")), "relative path")
                    .help(format!(
                        "SendFile needs an absolute directory: write `/{}`",
                        dir.value.trim_start_matches("./")
                    )),
                );
            }
        }

        let mode = match &entry.mode {
            Some(mode) => self.mode(mode, &at("mode")),
            None => Some(defaults.mode.clone().unwrap_or(Attr::builtin(DEFAULT_MODE))),
        };
        let owner = self.with_default(entry.owner.as_ref(), &at("owner"), &defaults.owner, "root");
        let group = self.with_default(entry.group.as_ref(), &at("group"), &defaults.group, "root");
        let overwrite = match entry.overwrite {
            Some(b) => Attr::declared(b, self.origin(&at("overwrite"))),
            None => defaults.overwrite.clone().unwrap_or(Attr::builtin(false)),
        };
        let content_type = match entry.content_type {
            Some(t) => Attr::declared(content_type(t), self.origin(&at("content_type"))),
            None => defaults
                .content_type
                .clone()
                .unwrap_or(Attr::builtin(ContentType::PlainText)),
        };
        let content = self.content(i, entry, &content_type.value);
        ok &= content.is_ok();

        let targets = self.targets(
            &entry_pointer,
            entry.instances.as_ref(),
            entry.nodes.as_ref(),
            provider,
            sets,
        );
        let targets = match targets {
            Some(targets) if targets.is_empty() => {
                let key = match provider {
                    Provider::Ecs => "instances",
                    Provider::Eflo => "nodes",
                };
                self.push(
                    ManifestDiagnostic::new(
                        Code::NoTargets,
                        format!(
                            "{} names no {}",
                            pointer_display(&entry_pointer),
                            provider.target_noun()
                        ),
                    )
                    .label(
                        self.entry_label(&entry_pointer),
                        format!("no `{key}:` in this entry"),
                    )
                    .help(format!(
                        "add `{key}: [{}]` (ids or instance set names)",
                        id_example(provider)
                    )),
                );
                None
            }
            other => other,
        };

        let invoke_id = self.opt_string(entry.invoke_id.as_ref(), &at("invoke_id"));
        if provider == Provider::Eflo && entry.invoke_id.is_none() {
            ok = false;
            self.push(
                ManifestDiagnostic::new(
                    Code::EfloNeedsInvokeId,
                    format!("{} is on eflo nodes but names no invoke_id", pointer_display(&entry_pointer)),
                )
                .label(self.entry_label(&entry_pointer), "no `invoke_id:` in this entry")
                .help("eflo's DescribeSendFileResults requires the SendFile task id: add `invoke_id: f-…`"),
            );
        }
        let region = self.region(entry.region.as_ref(), &at("region"), defaults);
        let task_tags = self.entry_task_tags(entry.task_tags.as_ref(), &at("task_tags"), defaults);
        ok &= task_tags.is_some();
        let task_tags = task_tags.unwrap_or_default();
        if !task_tags.is_empty() && provider == Provider::Eflo {
            ok = false;
            self.push(
                ManifestDiagnostic::new(
                    Code::InvalidValue,
                    "`task_tags:` does not apply to eflo: its API has no tag filter",
                )
                .label(self.entry_label(&entry_pointer), "eflo file")
                .help("pin eflo deliveries with `invoke_id:`"),
            );
        }
        let since = match &entry.since {
            Some(since) => {
                let since = self.since(since, &at("since"));
                ok &= since.is_some();
                since
            }
            None => defaults.since.clone(),
        };
        let max_age = match &entry.max_age {
            Some(age) => self.duration(age, &at("max_age")),
            None => defaults.max_age.clone(),
        };
        let description = entry
            .description
            .as_ref()
            .and_then(|d| self.string(d, &at("description")))
            .map(|d| d.value);

        if !ok {
            return None;
        }
        Some(FileExpectation {
            origin: self.origin(&entry_pointer),
            provider,
            region,
            name: name?,
            target_dir: target_dir?,
            mode: mode?,
            owner: owner?,
            group: group?,
            overwrite,
            content: content.ok()?,
            content_file: entry.content_file.as_ref().map(|p| self.base_dir.join(p)),
            content_type,
            target_sources: targets.as_ref()?.sources.clone(),
            targets: targets?.ids,
            invoke_id,
            max_age,
            task_tags,
            since,
            sensitive: entry.sensitive.unwrap_or(false),
            description,
        })
    }

    fn with_default(
        &mut self,
        value: Option<&String>,
        pointer: &str,
        default: &Option<Attr<String>>,
        builtin: &str,
    ) -> Option<Attr<String>> {
        match value {
            Some(value) => self.string(value, pointer),
            None => Some(
                default
                    .clone()
                    .unwrap_or_else(|| Attr::builtin(builtin.to_owned())),
            ),
        }
    }

    fn length(&mut self, key: &str, value: &str, pointer: &str) -> bool {
        let chars = value.chars().count();
        if chars <= MAX_NAME_CHARS {
            return true;
        }
        self.push(
            ManifestDiagnostic::new(
                Code::TooLong,
                format!(
                    "{key} is {chars} characters long; SendFile accepts at most {MAX_NAME_CHARS}"
                ),
            )
            .label(self.index.value(pointer), format!("{chars} characters"))
            .help(format!("shorten the {key}; SendFile refuses longer ones")),
        );
        false
    }

    /// `Ok(None)`: no content declared. `Err`: reported.
    fn content(
        &mut self,
        i: usize,
        entry: &FileEntry,
        content_type: &ContentType,
    ) -> Result<Option<Attr<ExpectedContent>>, ()> {
        let at = |key: &str| format!("/files/{i}/{key}");
        let declared: Vec<&str> = [
            ("content", entry.content.is_some()),
            ("content_file", entry.content_file.is_some()),
            ("sha256", entry.sha256.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, present)| present.then_some(key))
        .collect();
        if declared.len() > 1 {
            let mut diagnostic = ManifestDiagnostic::new(
                Code::ConflictingContent,
                format!(
                    "a file takes one of content, content_file and sha256; this one has {}",
                    declared.join(" and ")
                ),
            );
            for key in &declared[1..] {
                diagnostic = diagnostic.label(
                    self.index.head(&at(key)),
                    format!("`{key}` as well as `{}`", declared[0]),
                );
            }
            self.push(
                diagnostic.help("keep the one that states what you expect; remove the others"),
            );
            return Err(());
        }
        if let Some(content) = &entry.content {
            let pointer = at("content");
            let attr = self.string(content, &pointer).ok_or(())?;
            let origin = attr.origin.expect("declared");
            let (bytes, encoded_len) = if *content_type == ContentType::Base64 {
                let compact: String = attr.value.split_ascii_whitespace().collect();
                match base64::engine::general_purpose::STANDARD.decode(&compact) {
                    Ok(bytes) => (bytes, compact.len()),
                    Err(err) => {
                        self.push(
                            ManifestDiagnostic::new(
                                Code::InvalidBase64,
                                format!("content is declared Base64 but does not decode ({err})"),
                            )
                            .label(origin.span, "not Base64")
                            .help("give the Base64 text of the file, or set `content_type: PlainText`"),
                        );
                        return Err(());
                    }
                }
            } else {
                let len = base64_len(attr.value.len());
                (attr.value.into_bytes(), len)
            };
            self.size_limit(encoded_len, origin.span, "content")?;
            return Ok(Some(Attr::declared(ExpectedContent::Bytes(bytes), origin)));
        }
        if let Some(path) = &entry.content_file {
            let pointer = at("content_file");
            let attr = self.string(path, &pointer).ok_or(())?;
            let origin = attr.origin.expect("declared");
            let full = self.base_dir.join(&attr.value);
            let bytes = self.read_content_file(&attr.value, &full, origin.span)?;
            self.size_limit(base64_len(bytes.len()), origin.span, "content_file")?;
            return Ok(Some(Attr::declared(ExpectedContent::Bytes(bytes), origin)));
        }
        if let Some(sha) = &entry.sha256 {
            let pointer = at("sha256");
            let attr = self.string(sha, &pointer).ok_or(())?;
            let origin = attr.origin.expect("declared");
            let mut digest = [0u8; 32];
            if hex::decode_to_slice(attr.value.trim(), &mut digest).is_err() {
                self.push(
                    ManifestDiagnostic::new(
                        Code::InvalidSha256,
                        format!("`{}` is not a SHA-256 digest", attr.value),
                    )
                    .label(origin.span, "not 64 hex digits")
                    .help("write the 64 hexadecimal digits that `sha256sum FILE` prints"),
                );
                return Err(());
            }
            return Ok(Some(Attr::declared(
                ExpectedContent::Sha256(digest),
                origin,
            )));
        }
        Ok(None)
    }

    /// Reads a `content_file` the way untrusted input must be read: the
    /// path resolved (symlinks followed) and kept inside the content root,
    /// only a regular file (a FIFO would hang, `/dev/zero` never ends), its
    /// size judged from metadata first and the read capped all the same.
    fn read_content_file(&mut self, shown: &str, full: &Path, span: Span) -> Result<Vec<u8>, ()> {
        let root = self
            .content_root
            .clone()
            .unwrap_or_else(|| self.base_dir.clone());
        let outside = |this: &mut Self, why: &str| {
            this.push(
                ManifestDiagnostic::new(
                    Code::ContentFileOutside,
                    format!("content_file `{shown}` is outside the manifest's directory: {why}"),
                )
                .label(span, "outside the content root")
                .help(format!(
                    "content files must be inside {}; an operator can name another root with --content-root DIR",
                    root.display()
                )),
            );
        };
        let root = match root.canonicalize() {
            Ok(root) => root,
            Err(err) => {
                self.unreadable(
                    shown,
                    span,
                    &format!("the content root cannot be resolved: {err}"),
                );
                return Err(());
            }
        };
        let canonical = match full.canonicalize() {
            Ok(path) => path,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                self.push(
                    ManifestDiagnostic::new(
                        Code::ContentFileMissing,
                        format!("content_file `{shown}` does not exist"),
                    )
                    .label(span, "no such file")
                    .help(format!(
                        "the path is relative to the manifest's directory; looked for {}",
                        full.display()
                    )),
                );
                return Err(());
            }
            Err(err) => {
                self.unreadable(shown, span, &err.to_string());
                return Err(());
            }
        };
        if !canonical.starts_with(&root) {
            let why = if Path::new(shown).is_absolute() {
                "an absolute path"
            } else if std::fs::symlink_metadata(full).is_ok_and(|m| m.file_type().is_symlink()) {
                "a symbolic link leads out"
            } else {
                "it climbs out with `..`"
            };
            outside(self, why);
            return Err(());
        }
        let regular = |meta: &std::fs::Metadata| meta.file_type().is_file();
        match std::fs::metadata(&canonical) {
            Ok(meta) if regular(&meta) => {
                // Refuse before reading: a file over the limit is an error anyway.
                self.size_limit(base64_len(meta.len() as usize), span, "content_file")?;
            }
            Ok(meta) => {
                self.unreadable(shown, span, not_regular(&meta));
                return Err(());
            }
            Err(err) => {
                self.unreadable(shown, span, &err.to_string());
                return Err(());
            }
        }
        // The file may have been swapped since: judge the opened one again.
        let read = std::fs::File::open(&canonical).and_then(|file| {
            let meta = file.metadata()?;
            if !regular(&meta) {
                return Err(std::io::Error::other(not_regular(&meta)));
            }
            use std::io::Read as _;
            let mut bytes = Vec::new();
            file.take(MAX_CONTENT_RAW_BYTES as u64 + 1)
                .read_to_end(&mut bytes)?;
            Ok(bytes)
        });
        match read {
            Ok(bytes) => {
                self.size_limit(base64_len(bytes.len()), span, "content_file")?;
                Ok(bytes)
            }
            Err(err) => {
                self.unreadable(shown, span, &err.to_string());
                Err(())
            }
        }
    }

    fn unreadable(&mut self, shown: &str, span: Span, why: &str) {
        self.push(
            ManifestDiagnostic::new(
                Code::ContentFileUnreadable,
                format!("content_file `{shown}` cannot be read: {why}"),
            )
            .label(span, "cannot be read")
            .help("content_file names a regular file, relative to the manifest's directory"),
        );
    }

    fn size_limit(&mut self, encoded_len: usize, span: Span, key: &str) -> Result<(), ()> {
        if encoded_len <= MAX_CONTENT_BASE64_BYTES {
            return Ok(());
        }
        self.push(
            ManifestDiagnostic::new(
                Code::ContentTooLarge,
                format!(
                    "{key} is {encoded_len} bytes after Base64; SendFile accepts at most {MAX_CONTENT_BASE64_BYTES} (32 KB)"
                ),
            )
            .label(span, "over SendFile's limit")
            .help("SendFile cannot deliver this in one piece; split the file, or deliver it another way and check it with a command"),
        );
        Err(())
    }
}

/// Why a file that is not a regular file cannot be content.
fn not_regular(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        return "it is a directory, not a regular file";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "it is a named pipe (FIFO), not a regular file";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "it is a device, not a regular file";
        }
        if kind.is_socket() {
            return "it is a socket, not a regular file";
        }
    }
    "it is not a regular file"
}

/// The length of `n` bytes once Base64-encoded (with padding).
fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// `/etc/app` on Linux, `C:\app` on Windows.
fn is_absolute(dir: &str) -> bool {
    let bytes = dir.as_bytes();
    dir.starts_with('/')
        || (bytes.len() >= 3
            && bytes[0].is_ascii_alphabetic()
            && bytes[1] == b':'
            && matches!(bytes[2], b'\\' | b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_sizes() {
        assert!(is_absolute("/etc"));
        assert!(is_absolute("C:\\app"));
        assert!(!is_absolute("etc/nginx"));
        assert_eq!(base64_len(0), 0);
        assert_eq!(base64_len(1), 4);
        assert_eq!(base64_len(24 * 1024), 32 * 1024);
        assert_eq!(base64_len(24 * 1024 + 1), 32 * 1024 + 4);
    }
}
