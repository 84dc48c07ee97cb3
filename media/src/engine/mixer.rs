//! Conference mixing: every member hears the sum of the others (never itself), computed as
//! the sum of all minus its own, in 32 bits, then brought back into 16 bits with a soft limit
//! so that several loud members do not wrap around (clipping control).

use super::FRAME;

/// One frame for each member: `out[i]` is what member `i` hears.
pub fn mix(frames: &[[i16; FRAME]], out: &mut Vec<[i16; FRAME]>) {
    out.clear();
    let mut total = [0i32; FRAME];
    for f in frames {
        for (t, &s) in total.iter_mut().zip(f.iter()) {
            *t += i32::from(s);
        }
    }
    for f in frames {
        let mut heard = [0i16; FRAME];
        for ((h, &t), &own) in heard.iter_mut().zip(total.iter()).zip(f.iter()) {
            *h = limit(t - i32::from(own));
        }
        out.push(heard);
    }
}

/// Linear up to 3/4 of full scale, then compressed towards full scale (never wraps).
fn limit(x: i32) -> i16 {
    const KNEE: f32 = 24_576.0;
    const ROOM: f32 = 32_767.0 - KNEE;
    let a = x.unsigned_abs() as f32;
    let y = if a <= KNEE {
        a
    } else {
        // Smoothly approach full scale: knee + room * (1 - e^(-over/room)).
        KNEE + ROOM * (1.0 - (-(a - KNEE) / ROOM).exp())
    };
    (y.min(32_767.0) as i16) * if x < 0 { -1 } else { 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(v: i16) -> [i16; FRAME] {
        [v; FRAME]
    }

    #[test]
    fn each_member_hears_the_others_not_itself() {
        let frames = [frame(1_000), frame(2_000), frame(-500)];
        let mut out = Vec::new();
        mix(&frames, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0][0], 1_500);
        assert_eq!(out[1][0], 500);
        assert_eq!(out[2][0], 3_000);
        // Alone in the room: silence.
        mix(&[frame(9_000)], &mut out);
        assert_eq!(out[0][0], 0);
    }

    #[test]
    fn loud_rooms_are_limited_not_wrapped() {
        let frames = [frame(30_000), frame(30_000), frame(30_000), frame(-30_000)];
        let mut out = Vec::new();
        mix(&frames, &mut out);
        assert!(out[3][0] > 30_000, "limited near full scale: {}", out[3][0]);
        assert!(
            out[0][0] > 0,
            "30000 + 30000 - 30000 stays positive: {}",
            out[0][0]
        );
        assert_eq!(limit(-100_000), -limit(100_000));
        assert_eq!(limit(10_000), 10_000, "linear below the knee");
    }
}
