//! Output files, for every command that writes one (`-o`, `--report`, `--write`).
//!
//! - A regular file (or a new one) is replaced atomically: written to a temporary file beside it
//!   and renamed over it when complete, so a reader never sees half a file and a failure leaves
//!   the old one. Through a symbolic link, the file it names is replaced. The result has the
//!   mode a plain `open` would give (0666 less the umask), or the existing file's mode.
//! - Anything else that exists (a device such as `/dev/null`, a FIFO, a terminal) is written in
//!   place, never replaced; a FIFO without a reader is refused at once instead of blocking.
//!   A directory or a socket is refused.
//! - An output that is one of the command's inputs (by name, through a link, or a hard link to
//!   the same file) is refused before anything is written.
//!
//! Nothing here opens an input to compare it: the comparison is by `stat`, which never blocks.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// An output file being written.
pub struct OutputFile {
    file: File,
    kind: Kind,
}

enum Kind {
    /// A temporary file renamed over `target` on commit, then given `mode`.
    Replace { temp: tempfile::TempPath, target: PathBuf, mode: Option<u32> },
    /// Written where it is (a device or a FIFO).
    InPlace { path: PathBuf },
}

/// `(what it is, path)`: an input of the command, named as its help names it.
pub type Input<'a> = (&'a str, &'a Path);

impl OutputFile {
    /// Opens `path` for writing, refusing any of `inputs` (`-` is standard input: never a file).
    pub fn create(path: &Path, inputs: &[Input<'_>]) -> Result<OutputFile, String> {
        refuse_inputs(path, inputs)?;
        let cannot = |e: &dyn std::fmt::Display| format!("cannot write `{}`: {e}", path.display());
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_file() => {
                let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
                let (file, temp) = temp_beside(&target).map_err(|e| cannot(&e))?.into_parts();
                Ok(OutputFile { file, kind: Kind::Replace { temp, target, mode: mode_of(&meta) } })
            }
            Ok(meta) if meta.is_dir() => Err(format!("cannot write `{}`: it is a directory", path.display())),
            Ok(meta) => {
                let file = open_in_place(path, &meta).map_err(|e| cannot(&e))?;
                Ok(OutputFile { file, kind: Kind::InPlace { path: path.to_path_buf() } })
            }
            Err(_) => {
                // A new file (or a dangling link: the link is replaced by the file).
                let (file, temp) = temp_beside(path).map_err(|e| cannot(&e))?.into_parts();
                Ok(OutputFile { file, kind: Kind::Replace { temp, target: path.to_path_buf(), mode: None } })
            }
        }
    }

    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Whether what is written goes straight to the target (a device, a FIFO).
    pub fn in_place(&self) -> bool {
        matches!(self.kind, Kind::InPlace { .. })
    }

    /// The path a message should name.
    pub fn path(&self) -> &Path {
        match &self.kind {
            Kind::Replace { target, .. } => target,
            Kind::InPlace { path } => path,
        }
    }

    /// Everything written: the target now holds it.
    pub fn commit(self) -> Result<(), String> {
        self.commit_to(None)
    }

    /// An unfinished output: a regular file's target is left as it was and what was written goes
    /// to `TARGET.partial`, whose path is returned; in place, what was written stays written.
    pub fn keep_partial(self) -> Result<Option<PathBuf>, String> {
        match &self.kind {
            Kind::Replace { target, .. } => {
                let mut partial = target.clone().into_os_string();
                partial.push(".partial");
                let partial = PathBuf::from(partial);
                self.commit_to(Some(&partial))?;
                Ok(Some(partial))
            }
            Kind::InPlace { .. } => Ok(None),
        }
    }

    fn commit_to(self, instead: Option<&Path>) -> Result<(), String> {
        let OutputFile { file, kind } = self;
        match kind {
            Kind::Replace { temp, target, mode } => {
                let target = instead.map_or(target, Path::to_path_buf);
                let cannot = |e: &dyn std::fmt::Display| format!("cannot write `{}`: {e}", target.display());
                file.sync_all().map_err(|e| cannot(&e))?;
                if let Some(mode) = mode {
                    set_mode(&file, mode).map_err(|e| cannot(&e))?;
                }
                temp.persist(&target).map_err(|e| cannot(&e.error))?;
                Ok(())
            }
            Kind::InPlace { .. } => Ok(()),
        }
    }
}

/// Writes `contents` to `path` (see the module's rules), refusing any of `inputs`.
pub fn write_file(path: &Path, contents: &[u8], inputs: &[Input<'_>]) -> Result<(), String> {
    write_parts(path, &[contents], inputs)
}

/// [`write_file`] for contents in parts, written one after the other.
pub fn write_parts(path: &Path, parts: &[&[u8]], inputs: &[Input<'_>]) -> Result<(), String> {
    let mut out = OutputFile::create(path, inputs)?;
    for part in parts {
        out.file().write_all(part).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    out.commit()
}

/// Refuses an output that is one of the inputs: by identity (device and inode, through links)
/// when both exist, else by name.
pub fn refuse_inputs(output: &Path, inputs: &[Input<'_>]) -> Result<(), String> {
    let out_id = identity(output);
    for (what, input) in inputs {
        if input.as_os_str() == "-" {
            continue;
        }
        let same = match (&out_id, identity(input)) {
            (Some(a), Some(b)) => *a == b,
            _ => absolute(output) == absolute(input),
        };
        if same {
            return Err(format!(
                "`{}` is {what} (`{}`); write to another file (the output would replace it)",
                output.display(),
                input.display()
            ));
        }
    }
    Ok(())
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A temporary file in the folder of `path` (a rename within one file system is atomic), created
/// with the mode a plain `open` would give: 0666 less the umask (tempfile's default is 0600).
fn temp_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| format!(".{}.", n.to_string_lossy())).unwrap_or_default();
    let mut builder = tempfile::Builder::new();
    builder.prefix(&name).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

#[cfg(unix)]
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(path: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(path).ok()
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(meta.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode_of(_: &std::fs::Metadata) -> Option<u32> {
    None
}

#[cfg(unix)]
fn set_mode(file: &File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &File, _: u32) -> std::io::Result<()> {
    Ok(())
}

/// Opens something that is not a regular file for writing where it is. A FIFO is opened without
/// blocking (no reader: refused at once), then switched back to blocking writes.
#[cfg(unix)]
fn open_in_place(path: &Path, meta: &std::fs::Metadata) -> std::io::Result<File> {
    use rustix::fs::OFlags;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let kind = meta.file_type();
    if kind.is_socket() {
        return Err(std::io::Error::other("it is a socket"));
    }
    let flags = OFlags::NONBLOCK | OFlags::NOCTTY;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(i32::try_from(flags.bits()).unwrap_or(0))
        .open(path)
        .map_err(|e| {
            if kind.is_fifo() && e.raw_os_error() == Some(rustix::io::Errno::NXIO.raw_os_error()) {
                std::io::Error::other("it is a FIFO with no reader")
            } else {
                e
            }
        })?;
    let blocking = rustix::fs::fcntl_getfl(&file)? - OFlags::NONBLOCK;
    rustix::fs::fcntl_setfl(&file, blocking)?;
    Ok(file)
}

#[cfg(not(unix))]
fn open_in_place(path: &Path, _: &std::fs::Metadata) -> std::io::Result<File> {
    std::fs::OpenOptions::new().write(true).open(path)
}
