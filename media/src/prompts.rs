//! Where prompts come from, off any packet loop: WAV files under the prompts directory
//! (a tenant's own first, then the shared ones), WAVs at HTTP(S) URLs ([`fetch`]: checked
//! destinations, bounded time and size), and text rendered by [`Tts`]. Decoded files are
//! cached (bounded by their total length, re-read after [`FILE_TTL`] so a replaced greeting
//! is heard within a minute), and so are fetched ones (after [`URL_TTL`]).

pub mod fetch;

use crate::engine::audio::{AudioError, decode_wav};
use crate::tts::{Tts, TtsError};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How long a decoded file is used before it is read again.
pub const FILE_TTL: Duration = Duration::from_secs(60);
/// How long a fetched prompt is used before it is fetched again.
pub const URL_TTL: Duration = Duration::from_secs(300);
/// Largest prompt file read (10 minutes of 48 kHz stereo 16-bit is 115 MB; more is no prompt).
pub const MAX_FILE_BYTES: u64 = 128 << 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PromptError {
    #[error("no prompt {0:?}")]
    NotFound(String),
    #[error("prompt {0:?} is not a prompt name")]
    Name(String),
    #[error("prompt {0:?} is larger than {MAX_FILE_BYTES} bytes")]
    TooLarge(String),
    #[error("prompt {0:?} could not be read: {1}")]
    Io(String, String),
    #[error("prompt {0:?}: {1}")]
    Audio(String, AudioError),
    #[error(transparent)]
    Tts(#[from] TtsError),
    #[error("prompt {0:?}: {1}")]
    Url(String, fetch::FetchError),
}

/// The prompt sources of one node.
#[derive(Clone)]
pub struct Prompts {
    dir: PathBuf,
    /// Shared sounds (hold music) looked up by name after the prompts.
    sounds: Option<PathBuf>,
    /// Directories whose files may be named by absolute path (canonical).
    audio_dirs: Vec<PathBuf>,
    tts: Tts,
    files: moka::future::Cache<PathBuf, Arc<[i16]>>,
    urls: moka::future::Cache<String, Arc<[i16]>>,
    /// Whether URLs may name private addresses (a deployment on one machine or a LAN).
    allow_private: bool,
}

impl Prompts {
    /// Prompts under `dir` (`<dir>/<tenant>/<name>`, then `<dir>/<name>`); speech by `tts`;
    /// decoded files cached up to `max_samples` samples.
    pub fn new(dir: PathBuf, tts: Tts, max_samples: u64) -> Self {
        fn cache<K>(max_samples: u64, ttl: Duration) -> moka::future::Cache<K, Arc<[i16]>>
        where
            K: std::hash::Hash + Eq + Send + Sync + 'static,
        {
            moka::future::Cache::builder()
                .weigher(|_, v: &Arc<[i16]>| u32::try_from(v.len()).unwrap_or(u32::MAX))
                .max_capacity(max_samples)
                .time_to_live(ttl)
                .build()
        }
        Self {
            dir,
            sounds: None,
            audio_dirs: Vec::new(),
            tts,
            files: cache(max_samples, FILE_TTL),
            urls: cache(max_samples, URL_TTL),
            allow_private: false,
        }
    }

    /// Names not found under the prompts directory are looked up under `dir` too
    /// (`<dir>/<tenant>/<name>`, then `<dir>/<name>`).
    pub fn with_sounds(mut self, dir: PathBuf) -> Self {
        self.sounds = Some(dir);
        self
    }

    /// Files under these directories may be named by absolute path (nothing else may: a
    /// tenant names no file of another tenant's, nor any of the node's).
    pub fn with_audio_dirs(mut self, dirs: &[PathBuf]) -> Self {
        self.audio_dirs = dirs
            .iter()
            .filter_map(|d| std::fs::canonicalize(d).ok())
            .collect();
        self
    }

    /// Let URL prompts name private addresses (loopback, LAN).
    pub fn allow_private_urls(mut self, allow: bool) -> Self {
        self.allow_private = allow;
        self
    }

    /// The WAV at `url`, as 8 kHz samples (fetched once per [`URL_TTL`]).
    pub async fn url(&self, url: &str) -> Result<Arc<[i16]>, PromptError> {
        let allow = self.allow_private;
        let shown = url.to_string();
        let loaded = self
            .urls
            .try_get_with(url.to_string(), async move {
                let bytes = fetch::fetch(&shown, allow)
                    .await
                    .map_err(|e| PromptError::Url(shown.clone(), e))?;
                let samples = tokio::task::spawn_blocking(move || decode_wav(bytes))
                    .await
                    .map_err(|e| PromptError::Io(shown.clone(), e.to_string()))?
                    .map_err(|e| PromptError::Audio(shown.clone(), e))?;
                Ok::<_, PromptError>(Arc::from(samples))
            })
            .await;
        loaded.map_err(|e| (*e).clone())
    }

    /// The WAV prompt `name` of `tenant`, as 8 kHz samples: a name under the prompts
    /// directory (the tenant's own first), then under the sounds directory; or an absolute
    /// path under one of the audio directories.
    pub async fn file(&self, tenant: &str, name: &str) -> Result<Arc<[i16]>, PromptError> {
        if name.starts_with('/') {
            return self.absolute(name).await;
        }
        let tenant_ok = !tenant.is_empty()
            && tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            && !tenant.starts_with('.');
        if !tenant_ok || !name_ok(name) {
            return Err(PromptError::Name(name.to_string()));
        }
        let mut candidates = vec![self.dir.join(tenant).join(name), self.dir.join(name)];
        if let Some(sounds) = &self.sounds {
            candidates.extend([sounds.join(tenant).join(name), sounds.join(name)]);
        }
        for path in candidates {
            if let Some(loaded) = self.load(path, name).await {
                return loaded;
            }
        }
        Err(PromptError::NotFound(name.to_string()))
    }

    /// A WAV named by absolute path: only under an audio directory, after resolving links.
    async fn absolute(&self, name: &str) -> Result<Arc<[i16]>, PromptError> {
        let refused = || PromptError::Name(name.to_string());
        if name.len() > 1024 || name.split('/').any(|c| c == "..") {
            return Err(refused());
        }
        let Ok(path) = tokio::fs::canonicalize(name).await else {
            return Err(PromptError::NotFound(name.to_string()));
        };
        if !self.audio_dirs.iter().any(|d| path.starts_with(d)) {
            return Err(refused());
        }
        self.path(path, name).await
    }

    /// Make the WAV at `from` the tenant's prompt `name` (a greeting recorded by phone):
    /// written beside it and renamed into place, so a play never reads half a file; this
    /// node's cached copy is dropped at once.
    pub async fn put_file(
        &self,
        tenant: &str,
        name: &str,
        from: &std::path::Path,
    ) -> Result<(), PromptError> {
        let tenant_ok = !tenant.is_empty()
            && !tenant.starts_with('.')
            && tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !tenant_ok || !name_ok(name) {
            return Err(PromptError::Name(name.to_string()));
        }
        let path = self.dir.join(tenant).join(name);
        let io = |e: std::io::Error| PromptError::Io(name.to_string(), e.to_string());
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io)?;
        }
        let part = path.with_extension("wav.part");
        tokio::fs::copy(from, &part).await.map_err(io)?;
        tokio::fs::rename(&part, &path).await.map_err(io)?;
        self.files.invalidate(&path).await;
        Ok(())
    }

    /// A WAV at `path` (a recording, say), shown as `name` in errors.
    pub async fn path(&self, path: PathBuf, name: &str) -> Result<Arc<[i16]>, PromptError> {
        self.load(path, name)
            .await
            .unwrap_or_else(|| Err(PromptError::NotFound(name.to_string())))
    }

    /// The decoded WAV at `path`, cached (`None`: no such file).
    async fn load(&self, path: PathBuf, name: &str) -> Option<Result<Arc<[i16]>, PromptError>> {
        {
            let Ok(meta) = tokio::fs::metadata(&path).await else {
                return None;
            };
            if !meta.is_file() {
                return None;
            }
            if meta.len() > MAX_FILE_BYTES {
                return Some(Err(PromptError::TooLarge(name.to_string())));
            }
            let shown = name.to_string();
            let loaded = self
                .files
                .try_get_with(path.clone(), async move {
                    let bytes = tokio::fs::read(&path)
                        .await
                        .map_err(|e| PromptError::Io(shown.clone(), e.to_string()))?;
                    let samples = tokio::task::spawn_blocking(move || decode_wav(bytes))
                        .await
                        .map_err(|e| PromptError::Io(shown.clone(), e.to_string()))?
                        .map_err(|e| PromptError::Audio(shown.clone(), e))?;
                    Ok::<_, PromptError>(Arc::from(samples))
                })
                .await;
            Some(loaded.map_err(|e| (*e).clone()))
        }
    }

    /// `text` spoken in `voice`.
    pub async fn text(&self, voice: &str, text: &str) -> Result<Arc<[i16]>, PromptError> {
        Ok(self.tts.speak(voice, text).await?)
    }
}

/// Same rule as the control API's prompt names: relative, of letters, digits, `.`, `_`, `-`
/// and `/`, no empty, `.` or `..` component.
fn name_ok(name: &str) -> bool {
    name.len() <= 200
        && name.split('/').all(|c| {
            !c.is_empty()
                && c != "."
                && c != ".."
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(path: &std::path::Path, rate: u32, n: usize) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..n {
            w.write_sample(((i as f32 * 0.1).sin() * 5_000.0) as i16)
                .unwrap();
        }
        w.finalize().unwrap();
    }

    #[tokio::test]
    async fn a_tenants_own_prompt_comes_first_and_names_cannot_escape() {
        let dir = std::env::temp_dir().join(format!("patchbay-prompts-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("acme/menu")).unwrap();
        wav(&dir.join("hello.wav"), 8_000, 8_000);
        wav(&dir.join("acme/hello.wav"), 16_000, 8_000);
        wav(&dir.join("acme/menu/main.wav"), 8_000, 800);
        std::fs::write(dir.join("acme/broken.wav"), b"RIFF nonsense").unwrap();
        let p = Prompts::new(dir.clone(), Tts::new("espeak-ng", 1 << 20), 1 << 22);
        assert_eq!(p.file("demo", "hello.wav").await.unwrap().len(), 8_000);
        assert_eq!(
            p.file("acme", "hello.wav").await.unwrap().len(),
            4_000,
            "acme's own (16 kHz, half a second)"
        );
        assert_eq!(p.file("acme", "menu/main.wav").await.unwrap().len(), 800);
        assert!(matches!(
            p.file("acme", "broken.wav").await,
            Err(PromptError::Audio(..))
        ));
        for bad in ["../hello.wav", "/etc/passwd", "menu//main.wav", "a/./b", ""] {
            assert!(
                matches!(p.file("acme", bad).await, Err(PromptError::Name(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            p.file("..", "hello.wav").await,
            Err(PromptError::Name(_))
        ));
        assert!(matches!(
            p.file("demo", "nothing.wav").await,
            Err(PromptError::NotFound(_))
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn sounds_by_name_and_audio_dirs_by_absolute_path_only() {
        let root = std::env::temp_dir().join(format!("patchbay-sounds-{}", std::process::id()));
        let (prompts, sounds, music) = (root.join("p"), root.join("s"), root.join("m"));
        for d in [&prompts, &sounds, &music, &root.join("secret")] {
            std::fs::create_dir_all(d).unwrap();
        }
        wav(&sounds.join("hold.wav"), 8_000, 1_600);
        wav(&music.join("jazz.wav"), 8_000, 800);
        wav(&root.join("secret/other.wav"), 8_000, 800);
        std::os::unix::fs::symlink(root.join("secret/other.wav"), music.join("link.wav")).unwrap();
        let p = Prompts::new(prompts, Tts::new("espeak-ng", 1 << 20), 1 << 22)
            .with_sounds(sounds)
            .with_audio_dirs(std::slice::from_ref(&music));
        assert_eq!(p.file("demo", "hold.wav").await.unwrap().len(), 1_600);
        let jazz = music.join("jazz.wav");
        assert_eq!(
            p.file("demo", jazz.to_str().unwrap()).await.unwrap().len(),
            800
        );
        for bad in [
            root.join("secret/other.wav"),
            music.join("link.wav"),
            music.join("../secret/other.wav"),
        ] {
            assert!(
                matches!(
                    p.file("demo", bad.to_str().unwrap()).await,
                    Err(PromptError::Name(_))
                ),
                "{bad:?}"
            );
        }
        std::fs::remove_dir_all(root).unwrap();
    }
}
