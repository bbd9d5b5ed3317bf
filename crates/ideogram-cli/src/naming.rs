//! Where images go, decided before anything is paid for: the folder exists
//! and takes files, every name is valid, and no file the tool did not
//! create is replaced (the next free name is taken instead, unless told to
//! overwrite). An image `NAME.png` and its sidecar `NAME.json` share a stem,
//! and a stem is free only when no image or sidecar of that stem exists, so
//! each sidecar belongs to exactly one image.

use std::path::{Path, PathBuf};

use crate::failure::{Failure, INVALID, OTHER};

/// The longest file name most filesystems take, in bytes.
const NAME_MAX: usize = 255;

/// What a saved image's temporary name adds to its name, at most
/// (`.` + name + `.` + tag + `-xxxxxxxx.part`), in bytes.
const TEMP_OVERHEAD: usize = 48;

/// The longest stem, in bytes: room for `-99`, the longest extension and the
/// temporary name.
const MAX_STEM: usize = NAME_MAX - TEMP_OVERHEAD - ".webp".len() - "-99".len();

/// The longest stem built from a prompt, in bytes (any script).
const MAX_SLUG: usize = 80;

/// Extensions an image of this tool may have.
const IMAGE_EXTENSIONS: [&str; 9] = [
    "png", "jpg", "jpeg", "webp", "gif", "avif", "heic", "bmp", "tiff",
];

/// A file name from a prompt (or a URL's last part): its first words,
/// lower case, joined by `-`, at most 80 bytes (cut between characters),
/// `image` when nothing is left. Every known key is taken out of the text
/// first ([`crate::redact::without_keys`]), however it is encoded or cased,
/// so no name holds one and every path printed is the file's real path.
pub(crate) fn slug(prompt: &str) -> String {
    let prompt = crate::redact::without_keys(prompt);
    let mut out = String::new();
    for word in prompt
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(6)
    {
        let word = word.to_lowercase();
        let sep = usize::from(!out.is_empty());
        if out.len() + sep + word.len() > MAX_SLUG {
            if out.is_empty() {
                // One long word: as much of it as fits.
                for c in word.chars() {
                    if out.len() + c.len_utf8() > MAX_SLUG {
                        break;
                    }
                    out.push(c);
                }
            }
            break;
        }
        if sep == 1 {
            out.push('-');
        }
        out.push_str(&word);
    }
    if out.is_empty() {
        "image".to_owned()
    } else {
        out
    }
}

/// What a file named from an input image is named after: the image's
/// name without its folder, query or extension (`photos/cat.png` and
/// `https://host/a/cat.png?x=1` are `cat`).
pub(crate) fn image_stem(image: &str) -> String {
    let path = image.split(['?', '#']).next().unwrap_or(image);
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let stem = Path::new(name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned());
    stem.filter(|s| !s.is_empty())
        .unwrap_or_else(|| "image".to_owned())
}

/// Where a command's images go: a folder and a stem, plus the extension the
/// user asked for (kept unless the image's type says otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// The folder (created if missing).
    pub dir: PathBuf,
    /// The name without extension.
    pub stem: String,
    /// The extension asked for, if one was.
    pub ext: Option<String>,
    /// Whether names are numbered even for one image (`-o folder/` never is).
    pub numbered: bool,
    /// Whether a sidecar goes beside each image (`fetch` writes none).
    pub sidecars: bool,
}

impl Plan {
    /// `output` read as a file (`out/x.png`) or a folder (one that exists,
    /// or ends in `/`), `default_stem` naming images in a folder. A path
    /// that exists and is neither a folder nor a regular file is refused.
    pub(crate) fn from_output(output: Option<&Path>, default_stem: &str) -> Result<Self, Failure> {
        let folder = |dir: &Path| Self {
            dir: dir.to_path_buf(),
            stem: default_stem.to_owned(),
            ext: None,
            numbered: false,
            sidecars: true,
        };
        let Some(output) = output else {
            return Ok(folder(Path::new("")));
        };
        let text = output.as_os_str().to_string_lossy();
        let ends_in_separator = text.ends_with(std::path::MAIN_SEPARATOR) || text.ends_with('/');
        match std::fs::metadata(output) {
            Ok(meta) if meta.is_dir() && !ends_in_separator && named_as_image(output) => {
                return Err(folder_named_as_image(output));
            }
            Ok(meta) if meta.is_dir() => return Ok(folder(output)),
            Ok(meta) if !meta.is_file() => return Err(not_regular(output, &meta.file_type())),
            _ if ends_in_separator => return Ok(folder(output)),
            _ => {}
        }
        let dir = output.parent().map(Path::to_path_buf).unwrap_or_default();
        let name = output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (stem, ext) = match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => {
                (stem.to_owned(), Some(ext.to_owned()))
            }
            _ => (name.clone(), None),
        };
        Ok(Self {
            dir,
            stem,
            ext,
            numbered: false,
            sidecars: true,
        })
    }

    /// Checks, before anything is sent, that images can be written: the
    /// stem fits a file name, the folder exists (it is created: removed
    /// again unless kept, see [`NewFolders`]) and takes a new file, and no
    /// target is a special file.
    pub(crate) fn check(&self, count: usize) -> Result<NewFolders, Failure> {
        self.check_names(count)?;
        // The probe is as long as the longest name this will create, so a
        // name or path too long for the filesystem fails here, unpaid.
        writable(&self.dir, self.longest_name())
    }

    /// The longest file name this plan creates, in bytes (a temporary
    /// image's), for [`writable`]'s probe.
    pub(crate) fn longest_name(&self) -> usize {
        self.stem.len() + LONGEST_SUFFIX
    }

    /// [`Plan::check`] but for proving the folder writable: the stem fits a
    /// file name and no target is a special file. A batch checks every
    /// item's names and then probes its folder once, with the longest.
    pub(crate) fn check_names(&self, count: usize) -> Result<(), Failure> {
        if self.stem.is_empty() || self.stem.contains(['/', '\0']) {
            return Err(Failure::new(
                INVALID,
                format!("invalid output: {:?} is not a file name", self.stem),
            ));
        }
        if self.stem.len() > MAX_STEM {
            return Err(Failure::new(
                INVALID,
                format!(
                    "invalid output: the file name {:?}... is {} bytes; at most {MAX_STEM} fit",
                    self.stem.chars().take(24).collect::<String>(),
                    self.stem.len()
                ),
            ));
        }
        if let Some(ext) = &self.ext
            && ext.len() > 16
        {
            return Err(Failure::new(
                INVALID,
                format!("invalid output: the extension .{ext} is too long"),
            ));
        }
        if self.sidecars
            && self
                .ext
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            return Err(Failure::new(
                INVALID,
                format!(
                    "invalid output: {}.json is where the image's sidecar goes; name the image .png, .jpg or .webp",
                    self.stem
                ),
            ));
        }
        for stem in self.candidates(count).take(count) {
            for path in self.files_of(&stem) {
                if let Ok(meta) = std::fs::symlink_metadata(&path)
                    && !meta.is_file()
                {
                    return Err(not_regular(&path, &meta.file_type()));
                }
            }
        }
        Ok(())
    }

    /// The stems to try, in order: the stem itself for one image, then
    /// `stem-2`, `stem-3`, ...; `stem-1`, `stem-2`, ... for several.
    fn candidates(&self, count: usize) -> impl Iterator<Item = String> + '_ {
        let numbered = self.numbered || count > 1;
        let first = if numbered {
            None
        } else {
            Some(self.stem.clone())
        };
        let start = if numbered { 1 } else { 2 };
        first
            .into_iter()
            .chain((start..).map(move |n| format!("{}-{n}", self.stem)))
    }

    /// Every file that would make `stem` taken: its sidecar and its image in
    /// any type.
    fn files_of(&self, stem: &str) -> Vec<PathBuf> {
        let mut files = Vec::new();
        if self.sidecars {
            files.push(self.dir.join(format!("{stem}.json")));
        }
        let exts = IMAGE_EXTENSIONS
            .iter()
            .map(|e| e.to_string())
            .chain(self.ext.clone());
        files.extend(exts.map(|ext| self.dir.join(format!("{stem}.{ext}"))));
        files
    }

    /// The files there already that make `stem` taken, each once.
    pub(crate) fn existing(&self, stem: &str) -> Vec<PathBuf> {
        let mut files = self.files_of(stem);
        files.dedup();
        files.retain(|f| std::fs::symlink_metadata(f).is_ok());
        files
    }

    /// `count` free stems, in order, skipping any taken by a file this tool
    /// did not create for this work (`ours` says which are). With
    /// `overwrite`, the first `count` candidates whatever is there.
    pub(crate) fn stems(
        &self,
        count: usize,
        overwrite: bool,
        ours: &dyn Fn(&Path) -> bool,
    ) -> Vec<Stem> {
        let free = |stem: &String| {
            overwrite
                || self
                    .files_of(stem)
                    .iter()
                    .all(|f| ours(f) || std::fs::symlink_metadata(f).is_err())
        };
        self.candidates(count)
            .filter(free)
            .take(count)
            .map(|stem| Stem {
                image: self
                    .dir
                    .join(format!("{stem}.{}", self.ext.as_deref().unwrap_or("png"))),
                sidecar: self.dir.join(format!("{stem}.json")),
            })
            .collect()
    }
}

/// What a sidecar holds from the moment its stem is claimed until its
/// image's record replaces it.
pub(crate) const CLAIMED: &[u8] = b"{\"status\": \"claimed\"}\n";

impl Plan {
    /// `count` free stems, each claimed by creating its sidecar (holding
    /// [`CLAIMED`]) where no file was: a name another process (another
    /// `ideogram mcp` server, a command) took meanwhile is skipped, so
    /// that two never pick one name, whatever runs at once. The sidecars
    /// are then this work's to write over ([`crate::paid::Saving`]'s
    /// `claimed`). `None` when a sidecar cannot be created for another
    /// reason than a taken name (the claims made are removed): the caller
    /// then saves as [`Plan::stems`] picks, never over a file either.
    pub(crate) fn claim_stems(&self, count: usize) -> Option<Vec<Stem>> {
        let taken = |stem: &String| {
            self.files_of(stem)
                .iter()
                .any(|f| std::fs::symlink_metadata(f).is_ok())
        };
        let mut claimed: Vec<Stem> = Vec::with_capacity(count);
        let mut candidates = self.candidates(count);
        while claimed.len() < count {
            let stem = candidates.next()?;
            if taken(&stem) {
                continue;
            }
            let sidecar = self.dir.join(format!("{stem}.json"));
            let created = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&sidecar)
                .and_then(|mut file| std::io::Write::write_all(&mut file, CLAIMED));
            match created {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(_) => {
                    let _ = std::fs::remove_file(&sidecar);
                    for stem in &claimed {
                        let _ = std::fs::remove_file(&stem.sidecar);
                    }
                    return None;
                }
            }
            let stem = Stem {
                image: self
                    .dir
                    .join(format!("{stem}.{}", self.ext.as_deref().unwrap_or("png"))),
                sidecar,
            };
            // An image without a sidecar that came meanwhile: not ours.
            if std::iter::once(stem.image.clone())
                .chain(files_of_stem(&stem.image))
                .filter(|f| *f != stem.sidecar)
                .any(|f| std::fs::symlink_metadata(f).is_ok())
            {
                let _ = std::fs::remove_file(&stem.sidecar);
                continue;
            }
            claimed.push(stem);
        }
        Some(claimed)
    }
}

/// Removes the sidecar at `path` if it still holds only its claim (its
/// image was never saved: withheld, or its stem not used).
pub(crate) fn release_claim(path: &Path) {
    if std::fs::read(path).is_ok_and(|bytes| bytes == CLAIMED) {
        let _ = std::fs::remove_file(path);
    }
}

/// Every file that belongs to the stem of `image`: its sidecar and the image
/// in any type.
pub(crate) fn files_of_stem(image: &Path) -> Vec<PathBuf> {
    std::iter::once("json")
        .chain(IMAGE_EXTENSIONS)
        .map(|ext| image.with_extension(ext))
        .collect()
}

/// Where one image and its sidecar go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stem {
    /// The image, with the extension expected (the saved one may differ).
    pub image: PathBuf,
    /// Its sidecar.
    pub sidecar: PathBuf,
}

impl Stem {
    /// The sidecar of the image at `saved` (same stem).
    pub(crate) fn sidecar_of(saved: &Path) -> PathBuf {
        saved.with_extension("json")
    }
}

/// What the longest file this tool creates for a stem adds to it: a
/// temporary image name, `.STEM-99.webp.TAG-XXXXXXXX.part`.
const LONGEST_SUFFIX: usize = TEMP_OVERHEAD + ".webp".len() + "-99".len();

/// The folders a command created for its output (those of its path that
/// did not exist), and files it created in them: removed again when it is
/// dropped before [`NewFolders::keep`], so that a command refused before
/// it sends anything (over its budget, an unreadable image) leaves no
/// folder behind. Only what it created goes, and a folder only while
/// empty: anything another put there keeps it.
#[derive(Debug, Default)]
#[must_use = "dropped, the folders it created are removed"]
pub(crate) struct NewFolders {
    /// Outermost first.
    dirs: Vec<PathBuf>,
    files: Vec<PathBuf>,
}

impl NewFolders {
    /// Creates `dir` and the folders above it that are missing, noting
    /// which (each synced into the folder holding it: records of paid
    /// images go in them).
    pub(crate) fn create(dir: &Path) -> std::io::Result<Self> {
        Ok(Self {
            dirs: crate::durable::create_folders(dir)?,
            files: Vec::new(),
        })
    }

    /// Notes `file` (just created by this command) to go with the folders,
    /// when it is in one they created.
    pub(crate) fn created(&mut self, file: &Path) {
        if file
            .parent()
            .is_some_and(|dir| self.dirs.iter().any(|d| d == dir))
        {
            self.files.push(file.to_path_buf());
        }
    }

    /// Notes `dir` (just created by this command) to go with the folders,
    /// when it is in one they created.
    pub(crate) fn created_folder(&mut self, dir: &Path) {
        let ours = dir
            .parent()
            .is_some_and(|up| self.dirs.iter().any(|d| d == up));
        if ours && !self.dirs.iter().any(|d| d == dir) {
            self.dirs.push(dir.to_path_buf());
        }
    }

    /// Something was sent (or will be): the folders and files stay.
    pub(crate) fn keep(mut self) {
        self.dirs.clear();
        self.files.clear();
    }
}

impl Drop for NewFolders {
    fn drop(&mut self) {
        for file in &self.files {
            let _ = std::fs::remove_file(file);
        }
        // Innermost first; one that is not empty stays.
        for dir in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Creates `dir` if needed and proves it takes a new file with a name of
/// `name_len` bytes (created and removed, named as this tool's). The
/// folders it created, removed again unless kept ([`NewFolders`]).
pub(crate) fn writable(dir: &Path, name_len: usize) -> Result<NewFolders, Failure> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let created = NewFolders::create(dir)
        .map_err(|e| Failure::io(format!("cannot create the folder {}", dir.display()), e))?;
    let mut name = format!(
        ".ideogram-probe-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    );
    if name.len() < name_len {
        name.push_str(&"x".repeat(name_len - name.len()));
    }
    let probe = dir.join(name);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"probe"));
    let _ = std::fs::remove_file(&probe);
    written.map_err(|e| {
        Failure::new(
            OTHER,
            format!("cannot write into {}: {e}; nothing was sent", dir.display()),
        )
    })?;
    Ok(created)
}

/// Whether `path`'s name ends in an image extension (`dir.png`).
fn named_as_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// `-o dir.png` where `dir.png` is a folder: the user may have meant a new
/// file of that name, and the images would go into the folder unsaid, so
/// it is refused with the two ways to say which is meant.
fn folder_named_as_image(path: &Path) -> Failure {
    let shown = path.display().to_string();
    Failure::new(
        INVALID,
        format!("invalid output: {shown} is a folder, not an image file; nothing was sent"),
    )
    .hint(format!(
        "to save into that folder type `-o {}`; for an image file, name one that is not a folder",
        crate::shell::quoted(&format!("{shown}/"))
    ))
}

fn not_regular(path: &Path, kind: &std::fs::FileType) -> Failure {
    use std::os::unix::fs::FileTypeExt as _;
    let what = if kind.is_dir() {
        "a folder"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    };
    Failure::new(
        INVALID,
        format!(
            "invalid output: {} is {what}, not a regular file; name a new file or a folder",
            path.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_capped_in_bytes_in_any_script() {
        assert_eq!(slug("A neon sign: \"open late\"!"), "a-neon-sign-open-late");
        assert_eq!(slug("!!!"), "image");
        for prompt in [
            "東京の夜景、ネオンの看板、雨の路地、映画のような光".repeat(10),
            "ß".repeat(500),
            "🦊 ".repeat(200) + "fox",
            "\u{202e}evil\u{202d}".to_owned(),
        ] {
            let s = slug(&prompt);
            assert!(s.len() <= MAX_SLUG, "{} bytes: {s}", s.len());
            assert!(!s.is_empty());
        }
    }

    #[test]
    fn outputs_are_files_or_folders() {
        let dir = tempfile::tempdir().unwrap();
        let plan = Plan::from_output(Some(&dir.path().join("x.jpg")), "a-cat").unwrap();
        assert_eq!(
            (plan.stem.as_str(), plan.ext.as_deref()),
            ("x", Some("jpg"))
        );
        let plan = Plan::from_output(Some(dir.path()), "a-cat").unwrap();
        assert_eq!((plan.stem.as_str(), plan.ext), ("a-cat", None));
        let plan = Plan::from_output(Some(Path::new("new/")), "a-cat").unwrap();
        assert_eq!(plan.dir, Path::new("new/"));
        let err = Plan::from_output(Some(Path::new("/dev/null")), "x").unwrap_err();
        assert!(err.message.contains("is a device"), "{}", err.message);
    }

    #[test]
    fn taken_stems_are_skipped_unless_ours_or_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let plan = Plan::from_output(Some(&dir.path().join("x.png")), "s").unwrap();
        let none = |_: &Path| false;
        assert_eq!(
            plan.stems(1, false, &none)[0].image,
            dir.path().join("x.png")
        );
        std::fs::write(dir.path().join("x.jpg"), b"theirs").unwrap();
        std::fs::write(dir.path().join("x-2.json"), b"theirs").unwrap();
        let stems = plan.stems(1, false, &none);
        assert_eq!(stems[0].image, dir.path().join("x-3.png"));
        assert_eq!(
            plan.stems(1, true, &none)[0].image,
            dir.path().join("x.png")
        );
        let ours = |p: &Path| p.ends_with("x.jpg");
        assert_eq!(
            plan.stems(1, false, &ours)[0].image,
            dir.path().join("x.png")
        );
        let two = plan.stems(2, false, &none);
        assert_eq!(
            two.iter().map(|s| s.sidecar.clone()).collect::<Vec<_>>(),
            [dir.path().join("x-1.json"), dir.path().join("x-3.json")]
        );
    }

    #[test]
    fn claimed_stems_are_never_claimed_twice() {
        let dir = tempfile::tempdir().unwrap();
        let plan = Plan::from_output(Some(dir.path()), "fox").unwrap();
        std::fs::write(dir.path().join("fox-2.jpg"), b"theirs").unwrap();
        let first = plan.claim_stems(1).unwrap();
        let second = plan.claim_stems(2).unwrap();
        let images = |stems: &[Stem]| stems.iter().map(|s| s.image.clone()).collect::<Vec<_>>();
        assert_eq!(images(&first), [dir.path().join("fox.png")]);
        assert_eq!(
            images(&second),
            [dir.path().join("fox-1.png"), dir.path().join("fox-3.png")]
        );
        assert_eq!(std::fs::read(&first[0].sidecar).unwrap(), CLAIMED);
        assert_eq!(
            std::fs::read(dir.path().join("fox-2.jpg")).unwrap(),
            b"theirs"
        );
        // Many at once: every name once.
        let many: Vec<Stem> = std::thread::scope(|scope| {
            let runs: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| plan.claim_stems(3).unwrap()))
                .collect();
            runs.into_iter()
                .flat_map(|run| run.join().unwrap())
                .collect()
        });
        let distinct: std::collections::HashSet<_> = many.iter().map(|s| &s.image).collect();
        assert_eq!(distinct.len(), 24);
        release_claim(&first[0].sidecar);
        assert!(!first[0].sidecar.exists());
        std::fs::write(&second[0].sidecar, b"{}").unwrap();
        release_claim(&second[0].sidecar);
        assert!(second[0].sidecar.exists(), "a written sidecar stays");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any prompt names a file that stays in its folder: at most 80
        /// bytes, never blank, no separator, dot, space or control, words
        /// joined by single dashes, and the prompt's first word leads it.
        #[test]
        fn a_prompt_names_a_plain_file(prompt in "(\\PC|[ ./\\\\\\n\\t\\u{0}-])*") {
            let name = slug(&prompt);
            prop_assert!(!name.is_empty() && name.len() <= MAX_SLUG, "{:?}", name);
            prop_assert!(!name.contains(['/', '\\', '.', ' ']) && !name.chars().any(char::is_control), "{:?}", name);
            prop_assert!(!name.starts_with('-') && !name.ends_with('-') && !name.contains("--"), "{:?}", name);
            match prompt.split(|c: char| !c.is_alphanumeric()).find(|w| !w.is_empty()) {
                Some(first) => {
                    let first = first.to_lowercase();
                    prop_assert!(name.starts_with(&first) || first.starts_with(&name), "{:?} from {:?}", name, prompt);
                }
                None => prop_assert_eq!(name, "image"),
            }
        }
    }
}
