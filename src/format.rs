//! Small helpers every output writer shares: how numbers are written and how files are
//! fingerprinted. Bottom of the import order (no crate imports), so writers, the survey, the facts and
//! the experiment machinery can all use them without importing each other.

/// A number as written in CSV and JSON outputs: fixed precision, so outputs are byte-stable.
pub fn num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 { format!("{}", v as i64) } else { format!("{v:.6}") }
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
