//! Prompts: a WAV file (PCM 8/16/24/32-bit, float, μ-law or A-law; mono or stereo; any rate)
//! to the engine's 8 kHz mono linear samples: symphonia reads and decodes it, channels are
//! averaged, rubato resamples.

use super::RATE;
use rubato::{FftFixedIn, Resampler};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::DecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// Why a prompt cannot be played.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AudioError {
    #[error("not a WAV file we can read: {0}")]
    Format(String),
    #[error("the audio could not be decoded: {0}")]
    Decode(String),
    #[error("resampling failed: {0}")]
    Resample(String),
}

/// Samples longest accepted (10 minutes at 8 kHz), so a hostile file cannot fill memory.
pub const MAX_SAMPLES: usize = 10 * 60 * RATE as usize;

/// Decode a WAV file to 8 kHz mono samples.
pub fn decode_wav(bytes: Vec<u8>) -> Result<Vec<i16>, AudioError> {
    let mss = MediaSourceStream::new(Box::new(std::io::Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("wav");
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| AudioError::Format(e.to_string()))?;
    let mut format = probed.format;
    let track = format
        .default_track()
        .ok_or_else(|| AudioError::Format("no audio track".into()))?;
    let rate = track
        .codec_params
        .sample_rate
        .ok_or_else(|| AudioError::Format("no sample rate".into()))?;
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| AudioError::Format(e.to_string()))?;
    let mut mono: Vec<f32> = Vec::new();
    let limit = MAX_SAMPLES as u64 * u64::from(rate) / u64::from(RATE);
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(AudioError::Decode(e.to_string())),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = decoder
            .decode(&packet)
            .map_err(|e| AudioError::Decode(e.to_string()))?;
        let channels = decoded.spec().channels.count().max(1);
        let mut buf = SampleBuffer::<f32>::new(decoded.capacity() as u64, *decoded.spec());
        buf.copy_interleaved_ref(decoded);
        mono.extend(
            buf.samples()
                .chunks(channels)
                .map(|frame| frame.iter().sum::<f32>() / channels as f32),
        );
        if mono.len() as u64 > limit {
            return Err(AudioError::Format("longer than 10 minutes".into()));
        }
    }
    let resampled = if rate == RATE {
        mono
    } else {
        resample(&mono, rate as usize, RATE as usize)?
    };
    Ok(resampled
        .iter()
        .map(|&x| (x * 32_767.0).clamp(-32_768.0, 32_767.0) as i16)
        .collect())
}

/// Resample mono `input` from `from` Hz to `to` Hz (FFT resampler, its delay removed).
fn resample(input: &[f32], from: usize, to: usize) -> Result<Vec<f32>, AudioError> {
    let err = |e: &dyn std::fmt::Display| AudioError::Resample(e.to_string());
    let chunk = 1024;
    let mut r = FftFixedIn::<f32>::new(from, to, chunk, 2, 1).map_err(|e| err(&e))?;
    let delay = r.output_delay();
    let want = (input.len() as u64 * to as u64 / from as u64) as usize;
    let mut out = Vec::with_capacity(want + delay + chunk);
    let mut pos = 0;
    while input.len() - pos >= r.input_frames_next() {
        let n = r.input_frames_next();
        let block = r
            .process(&[&input[pos..pos + n]], None)
            .map_err(|e| err(&e))?;
        out.extend_from_slice(&block[0]);
        pos += n;
    }
    let rest = &input[pos..];
    let block = r
        .process_partial(Some(&[rest]), None)
        .map_err(|e| err(&e))?;
    out.extend_from_slice(&block[0]);
    // Flush what the delay still holds.
    while out.len() < want + delay {
        let block = r
            .process_partial::<&[f32]>(None, None)
            .map_err(|e| err(&e))?;
        if block[0].is_empty() {
            break;
        }
        out.extend_from_slice(&block[0]);
    }
    Ok(out.into_iter().skip(delay).take(want).collect())
}

#[cfg(test)]
mod tests;
