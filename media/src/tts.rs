//! Text-to-speech with espeak-ng (Debian's package, run as a process): the text goes in on
//! stdin (never as an argument, so no text is ever read as an option), a WAV comes out on
//! stdout and becomes 8 kHz samples ([`crate::engine::audio::decode_wav`]). Rendered prompts
//! are cached by voice and text, bounded by their total length. A render runs in its own task
//! (the caller awaits it off any packet loop) and is killed after [`RENDER_TIMEOUT`].

use crate::engine::audio::{AudioError, decode_wav};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Longest a render may take.
pub const RENDER_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest text taken (a prompt, not a book).
pub const MAX_TEXT: usize = 4_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TtsError {
    #[error("voice {0:?} is not a voice name")]
    Voice(String),
    #[error("text empty or over {MAX_TEXT} bytes")]
    Text,
    #[error("espeak-ng could not run: {0} (install it: apt-get install espeak-ng)")]
    Missing(String),
    #[error("espeak-ng failed: {0}")]
    Failed(String),
    #[error("espeak-ng took longer than {RENDER_TIMEOUT:?}")]
    Timeout,
    #[error(transparent)]
    Audio(#[from] AudioError),
}

/// espeak-ng renders with a cache of what it rendered.
#[derive(Clone)]
pub struct Tts {
    program: String,
    cache: moka::sync::Cache<(String, String), Arc<[i16]>>,
}

impl Tts {
    /// `program` is `espeak-ng` (or a path); the cache holds up to `max_samples` samples
    /// (8 kHz: 28.8M is an hour of prompts, 57.6 MB).
    pub fn new(program: &str, max_samples: u64) -> Self {
        Self {
            program: program.to_string(),
            cache: moka::sync::Cache::builder()
                .weigher(|_, v: &Arc<[i16]>| u32::try_from(v.len()).unwrap_or(u32::MAX))
                .max_capacity(max_samples)
                .build(),
        }
    }

    /// `text` spoken by `voice` (an espeak-ng voice or language: `en`, `de`, `en-us`,
    /// `fr+f2` ...), as 8 kHz samples.
    pub async fn speak(&self, voice: &str, text: &str) -> Result<Arc<[i16]>, TtsError> {
        let ok_voice = voice.len() <= 32
            && voice.starts_with(|c: char| c.is_ascii_alphanumeric())
            && voice
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_+".contains(c));
        if !ok_voice {
            return Err(TtsError::Voice(voice.to_string()));
        }
        if text.trim().is_empty() || text.len() > MAX_TEXT {
            return Err(TtsError::Text);
        }
        let key = (voice.to_string(), text.to_string());
        if let Some(hit) = self.cache.get(&key) {
            return Ok(hit);
        }
        let wav = tokio::time::timeout(RENDER_TIMEOUT, self.render(voice, text))
            .await
            .map_err(|_| TtsError::Timeout)??;
        let samples: Arc<[i16]> = tokio::task::spawn_blocking(move || decode_wav(wav))
            .await
            .map_err(|e| TtsError::Failed(e.to_string()))??
            .into();
        self.cache.insert(key, samples.clone());
        Ok(samples)
    }

    async fn render(&self, voice: &str, text: &str) -> Result<Vec<u8>, TtsError> {
        let mut child = tokio::process::Command::new(&self.program)
            .args(["-v", voice, "--stdin", "--stdout"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| TtsError::Missing(e.to_string()))?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| TtsError::Failed("no stdin".into()))?;
        stdin
            .write_all(text.as_bytes())
            .await
            .map_err(|e| TtsError::Failed(e.to_string()))?;
        drop(stdin);
        let out = child
            .wait_with_output()
            .await
            .map_err(|e| TtsError::Failed(e.to_string()))?;
        if !out.status.success() || out.stdout.is_empty() {
            let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
            return Err(TtsError::Failed(if why.is_empty() {
                format!("exit status {}", out.status)
            } else {
                why
            }));
        }
        Ok(out.stdout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn espeak() -> String {
        let ok = std::process::Command::new("espeak-ng")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "espeak-ng is missing: apt-get install espeak-ng (or run make test)"
        );
        "espeak-ng".into()
    }

    #[tokio::test]
    async fn a_sentence_becomes_audio_of_plausible_length_and_is_cached() {
        let tts = Tts::new(&espeak(), 8_000 * 600);
        let s = tts
            .speak("en", "Please leave a message after the tone.")
            .await
            .unwrap();
        let secs = s.len() as f32 / 8_000.0;
        assert!((1.0..6.0).contains(&secs), "{secs} s");
        let loud = s.iter().filter(|x| x.unsigned_abs() > 1_000).count();
        assert!(
            loud > s.len() / 10,
            "speech, not silence: {loud} of {}",
            s.len()
        );
        let again = tts
            .speak("en", "Please leave a message after the tone.")
            .await
            .unwrap();
        assert!(
            Arc::ptr_eq(&s, &again),
            "the second render comes from the cache"
        );
    }

    #[tokio::test]
    async fn bad_voices_and_texts_are_refused_before_any_process() {
        let tts = Tts::new("/nonexistent/espeak", 1_000);
        assert!(matches!(
            tts.speak("--help", "x").await,
            Err(TtsError::Voice(_))
        ));
        assert!(matches!(tts.speak("en", "   ").await, Err(TtsError::Text)));
        assert!(matches!(
            tts.speak("en", &"a".repeat(MAX_TEXT + 1)).await,
            Err(TtsError::Text)
        ));
        assert!(matches!(
            tts.speak("en", "hello").await,
            Err(TtsError::Missing(_))
        ));
        // Text that looks like options is read as text (it goes in on stdin).
        let real = Tts::new(&espeak(), 80_000);
        assert!(real.speak("en", "--version -w /tmp/x").await.is_ok());
    }
}
