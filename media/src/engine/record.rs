//! Recording a leg or a whole call to WAV (16-bit PCM at 8 kHz, written by hound): one leg
//! mono, a call as stereo (A left, B right) or mixed mono; stopping at a maximum length, after
//! a run of silence, or on a key. Frames come in every 20 ms from the I/O side.

use super::{FRAME, RATE};
use std::io::{Seek, Write};

/// How the channels are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One leg, or both legs summed.
    Mono,
    /// Leg A on the left, leg B on the right.
    Stereo,
}

/// When to stop by itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Limits {
    pub max_ms: Option<u64>,
    /// Stop after this long below the silence level (voicemail: the caller stopped talking).
    pub silence_ms: Option<u64>,
    /// Keys that stop it (`#` to end a voicemail).
    pub stop_keys: String,
}

/// Why a recording stopped by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    MaxLength,
    Silence,
    Key(char),
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    #[error("writing the recording: {0}")]
    Write(#[from] hound::Error),
}

/// Mean absolute sample value under which a frame counts as silence (about -45 dBFS).
const SILENCE_LEVEL: u32 = 180;

/// A recording in progress.
pub struct Recorder<W: Write + Seek> {
    writer: hound::WavWriter<W>,
    layout: Layout,
    limits: Limits,
    frames: u64,
    silent_frames: u64,
}

impl<W: Write + Seek> Recorder<W> {
    pub fn new(out: W, layout: Layout, limits: Limits) -> Result<Self, RecordError> {
        let spec = hound::WavSpec {
            channels: if layout == Layout::Stereo { 2 } else { 1 },
            sample_rate: RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        Ok(Self {
            writer: hound::WavWriter::new(out, spec)?,
            layout,
            limits,
            frames: 0,
            silent_frames: 0,
        })
    }

    /// Milliseconds recorded.
    pub fn duration_ms(&self) -> u64 {
        self.frames * 20
    }

    /// 20 ms of leg A and, for a call, of leg B (`None`: silence on B, or a one-leg
    /// recording). The reason when a limit stops it.
    pub fn push(
        &mut self,
        a: &[i16; FRAME],
        b: Option<&[i16; FRAME]>,
    ) -> Result<Option<Stop>, RecordError> {
        let silent = [0i16; FRAME];
        let b = b.unwrap_or(&silent);
        let mut level = 0u32;
        for (&x, &y) in a.iter().zip(b.iter()) {
            match self.layout {
                Layout::Stereo => {
                    self.writer.write_sample(x)?;
                    self.writer.write_sample(y)?;
                }
                Layout::Mono => {
                    let m = (i32::from(x) + i32::from(y)).clamp(-32_768, 32_767) as i16;
                    self.writer.write_sample(m)?;
                }
            }
            level += u32::from(x.unsigned_abs()) + u32::from(y.unsigned_abs());
        }
        self.frames += 1;
        if level / FRAME as u32 <= SILENCE_LEVEL {
            self.silent_frames += 1;
        } else {
            self.silent_frames = 0;
        }
        if self.limits.max_ms.is_some_and(|m| self.duration_ms() >= m) {
            return Ok(Some(Stop::MaxLength));
        }
        if self
            .limits
            .silence_ms
            .is_some_and(|s| self.silent_frames * 20 >= s)
        {
            return Ok(Some(Stop::Silence));
        }
        Ok(None)
    }

    /// A key pressed during the recording: a stop if it is one of the stop keys.
    pub fn key(&self, key: char) -> Option<Stop> {
        self.limits
            .stop_keys
            .contains(key)
            .then_some(Stop::Key(key))
    }

    /// Close the file (the header gets its lengths); the duration in milliseconds.
    pub fn finish(self) -> Result<u64, RecordError> {
        let ms = self.duration_ms();
        self.writer.finalize()?;
        Ok(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tone::{Tone, ToneGen};

    fn tone_frames(f: f32, n: usize) -> Vec<[i16; FRAME]> {
        let mut g = ToneGen::new(Tone {
            f1: f,
            f2: 0.0,
            amplitude: 8_000.0,
            on_ms: 1,
            off_ms: 0,
        });
        (0..n)
            .map(|_| {
                let mut fr = [0i16; FRAME];
                g.fill(&mut fr);
                fr
            })
            .collect()
    }

    #[test]
    fn a_call_recorded_in_stereo_keeps_each_side_on_its_channel() {
        let (a, b) = (tone_frames(440.0, 50), tone_frames(1_000.0, 50));
        let mut cur = std::io::Cursor::new(Vec::new());
        let mut r = Recorder::new(&mut cur, Layout::Stereo, Limits::default()).unwrap();
        for (fa, fb) in a.iter().zip(&b) {
            assert_eq!(r.push(fa, Some(fb)).unwrap(), None);
        }
        assert_eq!(r.finish().unwrap(), 1_000);
        let rd = hound::WavReader::new(std::io::Cursor::new(cur.into_inner())).unwrap();
        assert_eq!((rd.spec().channels, rd.spec().sample_rate), (2, 8_000));
        let s: Vec<i16> = rd.into_samples::<i16>().map(Result::unwrap).collect();
        let left: Vec<i16> = s.iter().step_by(2).copied().collect();
        let right: Vec<i16> = s.iter().skip(1).step_by(2).copied().collect();
        assert_eq!(left, a.concat());
        assert_eq!(right, b.concat());
    }

    #[test]
    fn stops_on_silence_length_or_key() {
        let talk = tone_frames(440.0, 10);
        let mut cur = std::io::Cursor::new(Vec::new());
        let limits = Limits {
            max_ms: Some(10_000),
            silence_ms: Some(200),
            stop_keys: "#".into(),
        };
        let mut r = Recorder::new(&mut cur, Layout::Mono, limits.clone()).unwrap();
        for f in &talk {
            assert_eq!(r.push(f, None).unwrap(), None);
        }
        let quiet = [0i16; FRAME];
        let mut stop = None;
        for _ in 0..20 {
            stop = r.push(&quiet, None).unwrap();
            if stop.is_some() {
                break;
            }
        }
        assert_eq!(stop, Some(Stop::Silence));
        assert_eq!(
            r.duration_ms(),
            200 + 200,
            "10 talking frames, then 200 ms of silence"
        );
        assert_eq!(r.key('#'), Some(Stop::Key('#')));
        assert_eq!(r.key('1'), None);
        r.finish().unwrap();
        let mut cur = std::io::Cursor::new(Vec::new());
        let mut r = Recorder::new(
            &mut cur,
            Layout::Mono,
            Limits {
                max_ms: Some(100),
                ..Limits::default()
            },
        )
        .unwrap();
        let mut n = 0;
        while r.push(&talk[0], None).unwrap().is_none() {
            n += 1;
        }
        assert_eq!(n, 4, "the fifth frame reaches 100 ms");
    }
}
