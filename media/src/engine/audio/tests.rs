use super::*;

/// A WAV of a `freq` sine, `secs` long, written with hound.
fn wav(rate: u32, channels: u16, bits: u16, freq: f32, secs: f32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cur = std::io::Cursor::new(Vec::new());
    {
        let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
        let n = (rate as f32 * secs) as usize;
        for i in 0..n {
            let v = (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin() * 0.5;
            for _ in 0..channels {
                match bits {
                    16 => w.write_sample((v * 32_767.0) as i16).unwrap(),
                    _ => w.write_sample((v * 8_388_607.0) as i32).unwrap(),
                }
            }
        }
        w.finalize().unwrap();
    }
    cur.into_inner()
}

/// Sign changes per second of the samples at 8 kHz: twice the frequency of a sine.
fn crossings_per_sec(s: &[i16]) -> f32 {
    let n = s.windows(2).filter(|w| (w[0] >= 0) != (w[1] >= 0)).count();
    n as f32 * RATE as f32 / s.len() as f32
}

#[test]
fn any_rate_and_layout_becomes_8k_mono_with_its_pitch() {
    for (rate, ch, bits) in [
        (8_000, 1, 16),
        (16_000, 2, 16),
        (44_100, 2, 16),
        (48_000, 1, 24),
    ] {
        let out = decode_wav(wav(rate, ch, bits, 440.0, 1.0)).unwrap();
        assert!(
            (out.len() as i64 - 8_000).abs() <= 8,
            "{rate} Hz x{ch}: {} samples",
            out.len()
        );
        let c = crossings_per_sec(&out[400..7_600]);
        assert!((c - 880.0).abs() < 15.0, "{rate} Hz x{ch}: {c} crossings/s");
        let peak = out.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!(
            (14_000..=18_500).contains(&peak),
            "{rate} Hz x{ch}: peak {peak}"
        );
    }
}

#[test]
fn mu_law_wav_is_read() {
    // A mu-law WAV (format tag 7), which hound cannot write: header by hand, samples by G.711.
    let law = crate::engine::g711::Law::Mu;
    let samples: Vec<u8> = (0..8_000)
        .map(|i| {
            let v = (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 8_000.0).sin() * 16_000.0;
            law.encode_sample(v as i16)
        })
        .collect();
    let mut f = Vec::new();
    f.extend_from_slice(b"RIFF");
    f.extend_from_slice(&(4 + 8 + 18 + 8 + samples.len() as u32).to_le_bytes());
    f.extend_from_slice(b"WAVEfmt ");
    f.extend_from_slice(&18u32.to_le_bytes());
    f.extend_from_slice(&7u16.to_le_bytes()); // WAVE_FORMAT_MULAW
    f.extend_from_slice(&1u16.to_le_bytes());
    f.extend_from_slice(&8_000u32.to_le_bytes());
    f.extend_from_slice(&8_000u32.to_le_bytes());
    f.extend_from_slice(&1u16.to_le_bytes());
    f.extend_from_slice(&8u16.to_le_bytes());
    f.extend_from_slice(&0u16.to_le_bytes());
    f.extend_from_slice(b"data");
    f.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    f.extend_from_slice(&samples);
    let out = decode_wav(f).unwrap();
    assert_eq!(out.len(), 8_000);
    let c = crossings_per_sec(&out);
    assert!((c - 880.0).abs() < 15.0, "{c}");
}

#[test]
fn not_audio_is_an_error_not_a_panic() {
    assert!(matches!(
        decode_wav(b"hello".to_vec()),
        Err(AudioError::Format(_))
    ));
    assert!(decode_wav(Vec::new()).is_err());
    let mut truncated = wav(8_000, 1, 16, 440.0, 0.5);
    truncated.truncate(60);
    let _ = decode_wav(truncated); // an error or a few samples, never a panic
}
