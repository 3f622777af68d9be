//! Small helpers every output writer shares: how numbers are written and how files are
//! fingerprinted. Bottom of the import order (no crate imports), so writers, the survey, the facts and
//! the experiment machinery can all use them without importing each other.

use std::fmt::Write as _;

/// A number as written in CSV and JSON outputs: fixed precision, so outputs are byte-stable.
pub fn num(v: f64) -> String {
    let mut out = String::with_capacity(24);
    push_num(&mut out, v);
    out
}

/// Appends `v` as [`num`] writes it: an integer without decimals, anything else with six, the
/// exact decimal value of the double rounded half to even, byte for byte what `format!("{v:.6}")`
/// gives. Exact integer arithmetic on the double's mantissa instead of std's general float
/// formatter: output files hold millions of numbers, and this is several times faster.
pub fn push_num(out: &mut String, v: f64) {
    if let Some(i) = integral(v) {
        return push_int(out, i);
    }
    let mut buf = [0u8; 24];
    match fixed_digits(v, &mut buf) {
        Some(start) => out.push_str(std::str::from_utf8(&buf[start..]).expect("ASCII digits")),
        None => {
            let _ = write!(out, "{v:.6}");
        }
    }
}

/// [`push_num`] into bytes: for writers that assemble a whole file (the panel), which then needs
/// no check that the text is UTF-8 number by number.
pub fn push_num_bytes(out: &mut Vec<u8>, v: f64) {
    if let Some(i) = integral(v) {
        return push_int_bytes(out, i);
    }
    let mut buf = [0u8; 24];
    match fixed_digits(v, &mut buf) {
        Some(start) => out.extend_from_slice(&buf[start..]),
        None => out.extend_from_slice(format!("{v:.6}").as_bytes()),
    }
}

/// [`push_int`] into bytes.
pub fn push_int_bytes(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// `v` as an integer if it is one below 1e15 (written without decimals). `v as i64` is exact there,
/// and the round trip tells (`trunc` is a library call on baseline x86-64); NaN fails both tests.
fn integral(v: f64) -> Option<i64> {
    (v.abs() < 1e15 && (v as i64) as f64 == v).then_some(v as i64)
}

/// Writes a non-integral `v` as [`push_num`] does into the end of `buf`, returning where the text
/// starts; `None` for what std's formatter writes instead (non-finite values and magnitudes from
/// 1e15).
fn fixed_digits(v: f64, buf: &mut [u8; 24]) -> Option<usize> {
    if !v.is_finite() || v.abs() >= 1e15 {
        return None;
    }
    // A finite non-integer: |v| = m x 2^e with e < 0, and |v| < 2^52.
    let bits = v.to_bits();
    let raw_exp = ((bits >> 52) & 0x7ff) as i32;
    let raw_mantissa = bits & ((1u64 << 52) - 1);
    let (m, e) = if raw_exp == 0 { (raw_mantissa, -1074) } else { (raw_mantissa | (1u64 << 52), raw_exp - 1075) };
    let shift = (-e) as u32;
    // m x 10^6 < 2^73; beyond a shift of 74 it is below half a millionth and rounds to zero.
    let millionths: u128 = if shift > 74 {
        0
    } else {
        let n = u128::from(m) * 1_000_000;
        let q = n >> shift;
        let r = n & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        q + u128::from(r > half || (r == half && q & 1 == 1))
    };
    // Below 2^64 millionths (|v| < 1.8e13, nearly always) the split is done in 64 bits: a u128
    // division is a library call.
    let (whole, frac) = match u64::try_from(millionths) {
        Ok(n) => (n / 1_000_000, (n % 1_000_000) as u32),
        Err(_) => ((millionths / 1_000_000) as u64, (millionths % 1_000_000) as u32),
    };
    // Right to left, two digits at a time: the six decimals with their leading zeros, the point, at
    // most 15 whole digits, the sign.
    let mut pos = buf.len();
    let mut frac = frac;
    for _ in 0..3 {
        pos -= 2;
        buf[pos..pos + 2].copy_from_slice(pair((frac % 100) as usize));
        frac /= 100;
    }
    pos -= 1;
    buf[pos] = b'.';
    let mut whole = whole;
    while whole >= 10 {
        pos -= 2;
        buf[pos..pos + 2].copy_from_slice(pair((whole % 100) as usize));
        whole /= 100;
    }
    if whole > 0 || buf[pos] == b'.' {
        pos -= 1;
        buf[pos] = b'0' + whole as u8;
    }
    if v < 0.0 {
        pos -= 1;
        buf[pos] = b'-';
    }
    Some(pos)
}

/// The two ASCII digits of `n` (< 100).
fn pair(n: usize) -> &'static [u8] {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    &PAIRS[2 * n..2 * n + 2]
}

/// Writes an integer exactly as `format!("{v}")` does.
pub fn push_int(out: &mut String, v: i64) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// FNV-1a, 64 bits: a stable fingerprint (std's hasher may change between releases).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A CSV field as RFC 4180 wants it: quoted (quotes doubled) when it holds a comma, a quote or a line
/// break, as is otherwise. Every user string that reaches a CSV file goes through here.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

#[cfg(test)]
mod tests {

    /// What `csv_field` writes, the csv crate reads back as the same single field.
    #[test]
    fn csv_fields_read_back_through_the_csv_crate() {
        for s in ["plain", "a,b", "say \"hi\"", "line\nbreak", "cr\rlf", "\"", ",", "", "trailing,\n\"x\""] {
            let line = format!("{},next\n", csv_field(s));
            let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
            let record = reader.records().next().unwrap().unwrap();
            assert_eq!((&record[0], &record[1]), (s, "next"), "{line:?}");
        }
    }
    use super::*;

    /// What outputs wrote before the fast path: std's formatter.
    fn reference(v: f64) -> String {
        if v == v.trunc() && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v:.6}") }
    }

    #[test]
    fn fast_numbers_are_byte_identical_to_std_formatting() {
        let mut special = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            2.5,
            0.0078125,
            -0.0078125,
            1e-7,
            -1e-7,
            5e-7,
            -5e-7,
            4.9999999e-7,
            0.0000005,
            0.0000015,
            0.0000025,
            123456.0000005,
            999999.9999995,
            -999999.9999995,
            1e14 + 0.5,
            4503599627370495.5,
            1e15,
            -1e15,
            1e16,
            1e300,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            0.1,
            0.2,
            0.3,
            2.0 / 3.0,
            -1.0 / 3.0,
            i64::MAX as f64,
        ];
        // Exact ties at the sixth decimal: odd multiples of 2^-7 .. 2^-20 (dyadic, so representable).
        for k in 7..=20 {
            for j in (1..200).step_by(2) {
                special.push(f64::from(j) / f64::from(1u32 << k));
                special.push(-f64::from(j) / f64::from(1u32 << k));
            }
        }
        // Both writers, the text one and the byte one.
        let check = |v: f64, what: &str| {
            let expected = reference(v);
            assert_eq!(num(v), expected, "{v:e} {what}");
            let mut bytes = b"x".to_vec();
            push_num_bytes(&mut bytes, v);
            assert_eq!(&bytes[1..], expected.as_bytes(), "{v:e} {what} (bytes)");
        };
        for v in special {
            check(v, "");
        }
        // Random doubles over every magnitude that outputs hold, and random bit patterns.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for i in 0..200_000 {
            let bits = next();
            let v = if i % 2 == 0 {
                f64::from_bits(bits)
            } else {
                let mantissa = (bits >> 11) as f64 / (1u64 << 53) as f64;
                let scale = 10f64.powi((bits % 24) as i32 - 10);
                if bits & 1 == 0 { mantissa * scale } else { -mantissa * scale }
            };
            check(v, &format!("({bits:#x})"));
        }
    }
}
